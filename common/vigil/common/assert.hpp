// SPDX-License-Identifier: Apache-2.0
#pragma once

/// VIGIL_ASSERT checks an invariant in every build type. A broken invariant is a bug, not a
/// recoverable failure: it prints where and aborts (s6's "internal bug" exit), so that a core
/// dump shows the state instead of the program limping on.
#define VIGIL_ASSERT(cond)                                                                         \
  do {                                                                                             \
    if (!(cond)) [[unlikely]]                                                                      \
      ::vigil::detail::assert_failed(#cond, __FILE__, __LINE__);                                   \
  } while (false)

namespace vigil::detail {

[[noreturn]] void assert_failed(const char* expr, const char* file, int line) noexcept;

} // namespace vigil::detail
