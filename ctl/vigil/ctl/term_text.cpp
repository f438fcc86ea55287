// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/term_text.hpp"

#include "vigil/term/text.hpp"

#include <array>

namespace vigil::ctl {
namespace {

bool is_lower(char c) noexcept {
  return c >= 'a' && c <= 'z';
}

} // namespace

bool is_variable_name(std::string_view text) noexcept {
  static constexpr std::array<std::string_view, 4> reserved{"self", "true", "false", "nil"};
  if (text.empty() || !(is_lower(text[0]) || text[0] == '_') || text.find('@') != text.npos) {
    return false;
  }
  for (std::string_view word : reserved) {
    if (text == word) {
      return false;
    }
  }
  return is_identifier(text);
}

result<std::string, parse_error> resolve_term_text(std::string_view text,
                                                   const identifier_lookup& lookup) {
  auto parsed = parse_substituted(text, lookup);
  if (!parsed) {
    return parsed.error();
  }
  return to_string(*parsed);
}

result<std::string, parse_error> normalize_term(std::string_view text) {
  auto parsed = parse_term(text);
  if (!parsed) {
    return parsed.error();
  }
  return to_string(*parsed);
}

result<void, parse_error> check_term_text(std::string_view text) {
  auto resolved = resolve_term_text(text, [](std::string_view name) {
    return name == "self" ? std::optional<std::string>("#PID<0.0.0>") : std::nullopt;
  });
  if (!resolved) {
    return resolved.error();
  }
  return {};
}

std::string term_or_string(std::string_view text) {
  auto parsed = parse_term(text);
  if (parsed) {
    return to_string(*parsed);
  }
  return to_string(term(text));
}

} // namespace vigil::ctl
