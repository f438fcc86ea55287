// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
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
/// Lookaheads ((?=...), (?!...)) are refused too: that mode runs one at every position it
/// is reached, each to the end of the line if need be, which is quadratic again
/// ("(?=.*z)" took seconds per 16 KiB line).
namespace vigil::supervision {

/// Why a regex that compiles is not taken for a log check.
class log_regex_refused : public std::regex_error {
public:
  explicit log_regex_refused(const char* why)
      : std::regex_error(std::regex_constants::error_complexity), why_(why) {}

  [[nodiscard]] const char* what() const noexcept override { return why_; }

private:
  const char* why_; ///< a literal
};

/// Whether `regex` (ECMAScript, one that compiles) holds a lookahead: "(?=" or "(?!" whose
/// parenthesis is neither escaped nor inside a bracket expression.
inline bool has_lookahead(std::string_view regex) {
  bool in_bracket = false;
  for (std::size_t i = 0; i < regex.size(); ++i) {
    char c = regex[i];
    if (c == '\\') {
      ++i; // the escaped character stands for itself (or a class), whatever it is
    } else if (in_bracket && c == '[' && i + 1 < regex.size()
               && std::string_view(":.=").find(regex[i + 1]) != std::string_view::npos) {
      // A class, collating element or equivalence class ("[:alpha:]", libstdc++ takes them
      // in ECMAScript too): its ']' does not close the bracket expression.
      const char close[] = {regex[i + 1], ']', '\0'};
      auto end = regex.find(close, i + 2);
      i = end == std::string_view::npos ? regex.size() : end + 1;
    } else if (in_bracket) {
      in_bracket = c != ']'; // ECMAScript: the first unescaped ']' closes, even in "[]"
    } else if (c == '[') {
      in_bracket = true;
    } else if (c == '(' && (regex.substr(i + 1, 2) == "?=" || regex.substr(i + 1, 2) == "?!")) {
      return true;
    }
  }
  return false;
}

/// The compiled check. Throws std::regex_error for a regex that does not compile or that
/// uses a back-reference or a lookahead.
inline std::regex compile_log_regex(const std::string& regex) {
  constexpr auto flags = std::regex::ECMAScript | std::regex_constants::__polynomial;
  // Compiled alone first: once wrapped, an unbalanced "a)(b" would make another regex.
  const std::regex alone(regex, flags);
  if (has_lookahead(regex)) {
    throw log_regex_refused("a lookahead, (?=...) or (?!...), would search each line in time "
                            "quadratic in its length");
  }
  return std::regex("[\\s\\S]*(?:" + regex + ")[\\s\\S]*", flags | std::regex::optimize);
}

/// Whether `line` holds a match of `check` (made by compile_log_regex).
inline bool log_regex_finds(const std::regex& check, std::string_view line) {
  return std::regex_match(line.begin(), line.end(), check);
}

} // namespace vigil::supervision
