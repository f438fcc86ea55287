// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/ctl/shell.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::ctl {

/// What Tab may complete a word to (`shell_session::completions`).
using completer = std::function<std::vector<std::string>(std::string_view prefix)>;

/// The shell's line source. On a terminal, libedit's line editing: Ctrl-C cancels the line
/// (`cancelled_line`), Tab completes through `complete`, and the history is kept in
/// `~/.vigilctl_history`, saved after every line (plain getline when vigilctl was built
/// without libedit). Otherwise std::getline on stdin, without prompts.
[[nodiscard]] line_reader make_line_reader(bool interactive, completer complete = {});

} // namespace vigil::ctl
