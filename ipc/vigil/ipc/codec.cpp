// SPDX-License-Identifier: Apache-2.0
// The binary term encoder (docs/wire-format.md): a frame written depth-first without
// recursion, its size counted by the same walk first so the output is allocated once.
#include "vigil/ipc/codec.hpp"

#include "vigil/common/assert.hpp"

#include "wire_tags.hpp"

#include <bit>
#include <cstring>
#include <utility>
#include <vector>

namespace vigil::ipc {
namespace {

using namespace detail; // NOLINT(google-build-using-namespace): the wire tags

constexpr std::uint64_t zigzag(std::int64_t v) noexcept {
  auto u = static_cast<std::uint64_t>(v);
  return (u << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0);
}

constexpr std::size_t varint_size(std::uint64_t v) noexcept {
  return (static_cast<std::size_t>(std::bit_width(v | 1)) + 6) / 7;
}

// Encoding walks the term twice with the same code: once to count the bytes, once to write
// them into a buffer grown to exactly that size.
struct size_sink {
  std::size_t size = 0;

  void byte(std::uint8_t /*b*/) noexcept { ++size; }

  void varint(std::uint64_t v) noexcept { size += varint_size(v); }

  void fixed64(std::uint64_t /*v*/) noexcept { size += 8; }

  void bytes(std::string_view s) noexcept { size += s.size(); }
};

struct write_sink {
  std::byte* at;

  void byte(std::uint8_t b) noexcept { *at++ = std::byte{b}; }

  void varint(std::uint64_t v) noexcept {
    while (v >= 0x80) {
      byte(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    byte(static_cast<std::uint8_t>(v));
  }

  void fixed64(std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) {
      byte(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }

  void bytes(std::string_view s) noexcept {
    if (!s.empty()) {
      std::memcpy(at, s.data(), s.size());
      at += s.size();
    }
  }
};

// A container being written: its elements (null for a map, read through map_key and
// map_value), and the index of the next child, of 2 * size() for a map.
struct open_term {
  const term* container;
  const term* elements;
  std::size_t next;
  std::size_t end;
};

template <class Sink>
void put_text(Sink& s, std::uint8_t tag, std::string_view text) {
  s.byte(tag);
  s.varint(text.size());
  s.bytes(text);
}

// Writes a term's tag and payload. A container's payload is its count; a non-empty one goes
// on `open` so that its elements follow.
template <class Sink>
void put_head(const term& t, Sink& s, std::vector<open_term>& open) {
  std::uint8_t tag = tag_map;
  switch (t.kind()) {
  case term_kind::integer:
    s.byte(tag_integer);
    s.varint(zigzag(t.as_integer()));
    return;
  case term_kind::floating:
    s.byte(tag_float);
    s.fixed64(std::bit_cast<std::uint64_t>(t.as_float()));
    return;
  case term_kind::atom: put_text(s, tag_atom, t.as_atom().name()); return;
  case term_kind::string: put_text(s, tag_string, t.as_string()); return;
  case term_kind::pid: {
    auto p = t.as_pid();
    s.byte(tag_pid);
    s.varint(p.node);
    s.varint(p.index);
    s.varint(p.serial);
    return;
  }
  case term_kind::reference: {
    auto r = t.as_reference();
    s.byte(tag_reference);
    s.varint(r.node);
    s.varint(r.a);
    s.varint(r.b);
    s.varint(r.c);
    return;
  }
  case term_kind::tuple: tag = tag_tuple; break;
  case term_kind::list: tag = tag_list; break;
  case term_kind::map: break;
  }
  auto n = t.size();
  s.byte(tag);
  s.varint(n);
  if (n > 0) {
    bool map = tag == tag_map;
    open.push_back({&t, map ? nullptr : t.elements().data(), 0, map ? 2 * n : n});
  }
}

const term& child(const open_term& open, std::size_t i) noexcept {
  if (open.elements != nullptr) {
    return open.elements[i];
  }
  return i % 2 == 0 ? open.container->map_key(i / 2) : open.container->map_value(i / 2);
}

// Writes `root` depth-first without recursion, so no term is too deep to encode.
template <class Sink>
void put_term(const term& root, Sink& s) {
  // Kept per thread, so that once warm, encoding allocates nothing but its output.
  thread_local std::vector<open_term> open;
  open.clear();
  put_head(root, s, open);
  while (!open.empty()) {
    open_term& top = open.back();
    if (top.next == top.end) {
      open.pop_back();
      continue;
    }
    put_head(child(top, top.next++), s, open);
  }
}

std::size_t body_size(const term& t) {
  size_sink s;
  put_term(t, s);
  VIGIL_ASSERT(s.size <= UINT32_MAX);
  return s.size;
}

void write_frame(const term& t, std::byte* at, std::size_t body) {
  write_sink w{at};
  w.byte(wire_version);
  for (int i = 0; i < 4; ++i) {
    w.byte(static_cast<std::uint8_t>(body >> (8 * i)));
  }
  put_term(t, w);
  VIGIL_ASSERT(w.at == at + header_size + body);
}

} // namespace

void encode(const term& t, std::string& out) {
  auto body = body_size(t);
  auto start = out.size();
  out.resize(start + header_size + body);
  write_frame(t, std::as_writable_bytes(std::span(out)).data() + start, body);
}

std::string encode(const term& t) {
  std::string out;
  encode(t, out);
  return out;
}

std::size_t encoded_size(const term& t) {
  return header_size + body_size(t);
}

std::size_t encode_into(const term& t, std::span<std::byte> out) {
  auto body = body_size(t);
  VIGIL_ASSERT(out.size() >= header_size + body);
  write_frame(t, out.data(), body);
  return header_size + body;
}

} // namespace vigil::ipc
