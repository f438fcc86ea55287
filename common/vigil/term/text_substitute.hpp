// SPDX-License-Identifier: Apache-2.0
#pragma once

// Term text with names in it, as people type it at vigilctl and send it to vigild: the
// shell's variables and `self()`, which stands for the session's pid. Both the client and
// the daemon read such text, so the one reading of "what is a variable here" lives beside
// the parser.

#include "vigil/common/result.hpp"
#include "vigil/term/text.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

/// The replacement text for an identifier, or nullopt to leave it as it is.
using identifier_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// True for an identifier as term text spells bare atoms and keyword keys: a letter or `_`,
/// then letters, digits, `_` and `@`, optionally ending in `?` or `!`.
[[nodiscard]] bool is_identifier(std::string_view text) noexcept;

/// Replaces each identifier of term text for which `lookup` has a replacement. A replaced
/// `self` also swallows a following `()`. Strings, quoted atoms, `:atoms`, keyword keys
/// (`key:`), `#PID<...>`-style literals, numbers and qualified names (`Module.fun`) are left
/// alone, so only what Elixir reads as a variable changes.
[[nodiscard]] std::string substitute_identifiers(std::string_view text,
                                                 const identifier_lookup& lookup);

/// `substitute_identifiers(text, lookup)` parsed as a term under `limits`. A parse error's
/// line and column point into `text`, not into the substituted text (an error inside a
/// replacement points at the identifier it replaced).
[[nodiscard]] result<term, parse_error>
parse_substituted(std::string_view text, const identifier_lookup& lookup, parse_limits limits = {});

} // namespace vigil
