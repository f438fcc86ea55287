// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/ctl/shell.hpp"

namespace vigil::ctl {

/// The shell's line source. On a terminal, libedit's line editing with a history kept in
/// `~/.vigilctl_history` (plain getline when vigilctl was built without libedit); otherwise
/// std::getline on stdin, without prompts.
[[nodiscard]] line_reader make_line_reader(bool interactive);

} // namespace vigil::ctl
