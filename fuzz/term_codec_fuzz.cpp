// SPDX-License-Identifier: Apache-2.0
// Feeds arbitrary bytes to the binary term decoder, as a compromised worker could. Whatever
// decodes must re-encode to a frame of the same size (the format is canonical up to the order
// of map entries) that decodes to the same term and re-encodes to itself.
#include "vigil/common/assert.hpp"
#include "vigil/ipc/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto input = std::as_bytes(std::span(data, size));
  auto size_from_header = vigil::ipc::frame_size(input);
  auto decoded = vigil::ipc::decode(input);
  if (!decoded) {
    return 0;
  }
  VIGIL_ASSERT(size_from_header && *size_from_header == size);
  auto again = vigil::ipc::encode(*decoded);
  VIGIL_ASSERT(again.size() == size);
  auto redecoded = vigil::ipc::decode(again);
  VIGIL_ASSERT(redecoded && *redecoded == *decoded);
  VIGIL_ASSERT(vigil::ipc::encode(*redecoded) == again);
  return 0;
}
