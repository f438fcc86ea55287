// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace vigil::ctl {

/// `text` with every terminal control character written out, so that text from a worker (its
/// log lines) cannot move the cursor, clear the screen, retitle the window or set a
/// hyperlink on the terminal of whoever reads it. Escaped: the C0 controls U+0000-U+001F
/// except tab and newline, DEL (U+007F), and the C1 controls U+0080-U+009F when they come as
/// UTF-8 (C2 80 to C2 9F). Each becomes `\xHH`, its code point in hex: ESC is `\x1b`, CSI
/// (U+009B) is `\x9b`. Everything else, invalid UTF-8 included, is left as it is.
[[nodiscard]] std::string escape_control_characters(std::string_view text);

} // namespace vigil::ctl
