// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <regex>
#include <string>
#include <string_view>

/// The regex of a `log` readiness check (docs/readiness.md). It is the administrator's, but
/// each line it is searched in (up to 16 KiB) is the child's, and it runs on the one thread
/// that serves every OS child. So it must not backtrack: std::regex's default executor
/// recurses once per character ("(.)*ready" overflows the stack on a long line, taking the
/// daemon down) and searches in time quadratic in the line (".*ready": seconds per 16 KiB
/// line, every other child stalled meanwhile). libstdc++'s polynomial mode simulates the
/// automaton breadth first instead (no back-references); one whole-line match of
/// [\s\S]*(?:regex)[\s\S]* finds the same lines as a search for `regex`, in one pass.
namespace vigil::supervision {

/// The compiled check. Throws std::regex_error for a regex that does not compile or that
/// uses a back-reference.
inline std::regex compile_log_regex(const std::string& regex) {
  constexpr auto flags = std::regex::ECMAScript | std::regex_constants::__polynomial;
  // Compiled alone first: once wrapped, an unbalanced "a)(b" would make another regex.
  const std::regex alone(regex, flags);
  return std::regex("[\\s\\S]*(?:" + regex + ")[\\s\\S]*", flags | std::regex::optimize);
}

/// Whether `line` holds a match of `check` (made by compile_log_regex).
inline bool log_regex_finds(const std::regex& check, std::string_view line) {
  return std::regex_match(line.begin(), line.end(), check);
}

} // namespace vigil::supervision
