// SPDX-License-Identifier: Apache-2.0
// Plays a compromised worker that controls every byte of a ring's memory: the input
// supplies the header's indices, the data bytes, and optionally a raw header for attach.
// The daemon's reader must return frames or an error, never read outside the ring, and a
// writer must never write outside it either, whatever the indices say.
#include "vigil/common/assert.hpp"
#include "vigil/ipc/codec.hpp"
#include "vigil/ipc/ring.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>

namespace {

constexpr std::size_t capacity = 1024;

std::uint64_t read_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

struct aligned_delete {
  void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t(64)); }
};

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 17) {
    return 0;
  }
  std::uint64_t head = read_u64(data);
  std::uint64_t tail = read_u64(data + 8);
  std::uint8_t flags = data[16];
  data += 17;
  size -= 17;
  // Exactly the ring's bytes, so that ASan flags any access past them.
  const std::size_t bytes = vigil::ipc::ring_bytes(capacity);
  std::unique_ptr<std::byte[], aligned_delete> memory(new (std::align_val_t(64))
                                                          std::byte[bytes]());
  auto span = std::span(memory.get(), bytes);
  auto created = vigil::ipc::ring_view::create(span, capacity);
  VIGIL_ASSERT(created.has_value());
  vigil::ipc::ring_view view = *created;
  if ((flags & 1) != 0 && size >= 16) {
    // A raw header: attach must validate it before anything trusts the capacity.
    std::memcpy(memory.get(), data, 16);
    data += 16;
    size -= 16;
    auto attached = vigil::ipc::ring_view::attach(span);
    if (!attached) {
      return 0;
    }
    VIGIL_ASSERT(vigil::ipc::ring_bytes(attached->capacity()) <= bytes);
    view = *attached;
  }
  std::memcpy(view.data(), data, std::min(size, view.capacity()));
  view.header().head.store(head);
  view.header().tail.store(tail);
  vigil::ipc::decode_limits limits;
  limits.create_atoms = (flags & 2) != 0;
  limits.max_frame_bytes = (flags & 4) != 0 ? 64 : limits.max_frame_bytes;
  vigil::ipc::ring_reader reader(view, limits);
  for (int i = 0; i < 256; ++i) {
    auto got = reader.try_read();
    if (!got || !got->has_value()) {
      break;
    }
    auto again = vigil::ipc::encode(**got);
    VIGIL_ASSERT(vigil::ipc::decode(again, limits).has_value());
  }
  vigil::ipc::ring_writer writer(view);
  for (int i = 0; i < 4; ++i) {
    auto wrote = writer.try_write(vigil::term(std::string_view("a term of some length")));
    if (!wrote || !*wrote) {
      break;
    }
  }
  return 0;
}
