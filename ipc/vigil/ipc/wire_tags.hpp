// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to the codec: the one-byte tags of docs/wire-format.md.

#include <cstdint>

namespace vigil::ipc::detail {

enum wire_tag : std::uint8_t {
  tag_integer = 1,
  tag_float,
  tag_atom,
  tag_string,
  tag_pid,
  tag_reference,
  tag_tuple,
  tag_list,
  tag_map,
};

} // namespace vigil::ipc::detail
