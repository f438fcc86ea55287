// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/term/term.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace vigil {

/// Prints `t` in Elixir's syntax, as iex would: `{:ok, :pong}`, `#PID<0.74.0>`,
/// `#Reference<0.1.2.3>`, `[1, 2, 3]`, `"text"` (escaped), `%{key: 1, "k" => 2}`, `1.5`.
/// `parse_term(to_string(t)) == t` for every term.
///
/// Non-finite floats print as `NaN`, `Infinity` and `-Infinity`, which `parse_term` reads
/// back as floats (atoms with those names print as `:NaN` etc.). Every NaN prints as `NaN`
/// and parses to the canonical quiet NaN: its payload and sign are not kept.
[[nodiscard]] std::string to_string(const term& t);

/// Appends the text of `t` to `out`.
void print(const term& t, std::string& out);

std::ostream& operator<<(std::ostream& os, const term& t);

/// Where and why parsing stopped: 1-based line and column (in bytes), and what was
/// expected there, as "expected '}' or ','".
struct parse_error {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string message;

  /// "line:col: message".
  [[nodiscard]] std::string to_string() const;
};

/// Limits for text from outside the program (the control socket, the shell).
struct parse_limits {
  /// Counts nested containers; values above 1024 are treated as 1024 so that the parser's
  /// recursion stays within a small stack.
  std::uint32_t max_depth = 64;
  /// New atoms in the text take one each from this budget (`atom::try_make`); null when
  /// the text may intern freely (up to the table's reserve).
  atom_budget* new_atoms = nullptr;
};

/// Parses one term in Elixir's syntax, plus Erlang's forms: bare atoms (`{ok, pong}`),
/// quoted atoms (`:"with space"`), pids as `#PID<0.74.0>` or `<0.74.0>`, references as
/// `#Reference<0.1.2.3>`. Surrounding whitespace is allowed; anything else after the term
/// is an error. An integer outside 64 bits is an error, never a wrap.
[[nodiscard]] result<term, parse_error> parse_term(std::string_view text, parse_limits limits = {});

} // namespace vigil
