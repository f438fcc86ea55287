// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/term/text.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::ctl {

/// The replacement text for an identifier, or nullopt to leave it as it is.
using identifier_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// True for a name the shell may bind: a lowercase letter or `_`, then letters, digits and
/// `_`, optionally ending in `?` or `!`, and none of `self`, `true`, `false`, `nil`.
[[nodiscard]] bool is_variable_name(std::string_view text) noexcept;

/// True for an identifier as term text spells bare atoms and keyword keys: a letter or `_`,
/// then letters, digits, `_` and `@`, optionally ending in `?` or `!`.
[[nodiscard]] bool is_identifier(std::string_view text) noexcept;

/// Replaces each identifier of term text for which `lookup` has a replacement: the shell's
/// variables, and `self` (which then also swallows a following `()`). Strings, quoted
/// atoms, `:atoms`, keyword keys (`key:`), `#PID<...>`-style literals, numbers and
/// qualified names (`Module.fun`) are left alone, so only what Elixir reads as a variable
/// changes.
[[nodiscard]] std::string substitute_identifiers(std::string_view text,
                                                 const identifier_lookup& lookup);

/// `substitute_identifiers(text, lookup)` parsed as a term and printed back in canonical
/// form. A parse error's line and column point into `text`, not into the substituted text
/// (an error inside a replacement points at the identifier it replaced).
[[nodiscard]] result<std::string, parse_error> resolve_term_text(std::string_view text,
                                                                 const identifier_lookup& lookup);

/// `text` parsed as a term and printed back in canonical form ("{ :ok,1}" -> "{:ok, 1}"),
/// or where and why parsing failed.
[[nodiscard]] result<std::string, parse_error> normalize_term(std::string_view text);

/// Checks term text as the daemon will read it, where `self` and `self()` stand for the
/// session's pid.
[[nodiscard]] result<void, parse_error> check_term_text(std::string_view text);

/// How a string from a reply reads as a term: the term it parses to, in canonical form
/// ("waiting" -> ":waiting", "#PID<0.1.0>" -> itself), or else the string quoted
/// ("echo.cpp:42" -> "\"echo.cpp:42\"").
[[nodiscard]] std::string term_or_string(std::string_view text);

} // namespace vigil::ctl
