// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/term/text.hpp"
#include "vigil/term/text_substitute.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace vigil::ctl {

/// True for a name the shell may bind: a lowercase letter or `_`, then letters, digits and
/// `_`, optionally ending in `?` or `!`, and none of `self`, `true`, `false`, `nil`.
[[nodiscard]] bool is_variable_name(std::string_view text) noexcept;

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
