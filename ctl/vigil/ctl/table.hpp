// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::ctl {

/// How a column's cells line up.
enum class align : std::uint8_t { left, right };

/// Rows of text cells, printed in aligned columns by `format_table`.
struct table {
  /// The header line; empty for none.
  std::vector<std::string> header;
  /// One entry per column; columns without one align left.
  std::vector<align> aligns;
  /// Rows may be shorter than the widest one: missing cells are empty.
  std::vector<std::vector<std::string>> rows;
};

/// `t` as text: columns two spaces apart, each as wide as its widest cell in display columns
/// (code points, so that UTF-8 tree lines align), no trailing spaces, a newline after each
/// line. An empty table with a header prints the header alone.
[[nodiscard]] std::string format_table(const table& t);

/// Columns that `text` takes on a terminal: its UTF-8 code points, colour codes excluded.
[[nodiscard]] std::size_t display_width(std::string_view text) noexcept;

/// The few colours vigilctl uses for states on a terminal.
enum class colour : std::uint8_t { none, green, yellow, red };

/// `text` in colour `c` for a terminal (ANSI SGR), or as is for `colour::none`.
[[nodiscard]] std::string paint(std::string_view text, colour c);

/// An uptime as `ps` and `systemctl` users read it, keeping the two largest units: "0s",
/// "45s", "5m03s", "2h05m", "3d04h". Negative values print as "0s".
[[nodiscard]] std::string format_uptime(std::chrono::milliseconds uptime);

/// A protocol timestamp (milliseconds since the Unix epoch) in local time, to the
/// millisecond: "2026-11-26 10:20:10.123".
[[nodiscard]] std::string format_timestamp(std::int64_t unix_ms);

} // namespace vigil::ctl
