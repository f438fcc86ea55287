// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

namespace vigil::os::detail {

/// The readiness protocol (docs/readiness.md): a started child's pid (for an OS child, its
/// port) tells its supervisor {:"$vigil_ready", child_pid, status_text} once it is ready, and
/// may say what it still waits for with {:"$vigil_waiting", child_pid, detail}.
/// The supervision side keeps the same names (supervision/vigil/supervision/readiness.hpp).
inline atom ready_tag() {
  static const atom tag("$vigil_ready");
  return tag;
}

inline atom waiting_tag() {
  static const atom tag("$vigil_waiting");
  return tag;
}

} // namespace vigil::os::detail
