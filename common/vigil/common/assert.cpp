// SPDX-License-Identifier: Apache-2.0
#include "vigil/common/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace vigil::detail {

void assert_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "vigil: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
  std::abort();
}

} // namespace vigil::detail
