// SPDX-License-Identifier: Apache-2.0
#pragma once

// The byte layout of a term that term.cpp and term_order.cpp share: the tag in byte 0 and
// unaligned loads of the payload. Private to those two files; nothing else includes it.

#include "vigil/term/term.hpp"

#include <cstdint>
#include <cstring>

namespace vigil {
namespace { // NOLINT(cert-dcl59-cpp,google-build-namespaces): private to two files

// Internal tags (byte 0). All zero bytes is the atom nil, the default term.
enum tag : std::uint8_t {
  tag_atom = 0,
  tag_integer,
  tag_float,
  tag_small_string,
  tag_heap_string,
  tag_pid,
  tag_reference,
  tag_tuple,
  tag_list,
  tag_map,
};

static_assert(tag_heap_string == 4 && tag_tuple == 7 && tag_map == 9,
              "term::shares_block() in term.hpp hard-codes these tags");

template <class T>
T load(const unsigned char* at) noexcept {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

} // namespace
} // namespace vigil
