// SPDX-License-Identifier: Apache-2.0
#pragma once

// The character classes and spans of term text, shared by its scanner, printer, pattern
// parser and the substitution of variables, and by vigilctl's shell, which reads the same
// text: one definition of what an identifier and a quoted span are.

#include <cstddef>
#include <string_view>

namespace vigil::text_chars {

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

constexpr bool is_lower(char c) noexcept {
  return c >= 'a' && c <= 'z';
}

constexpr bool is_upper(char c) noexcept {
  return c >= 'A' && c <= 'Z';
}

/// A letter or `_`: what starts an identifier (a bare atom, keyword key or variable).
constexpr bool is_ident_start(char c) noexcept {
  return is_lower(c) || is_upper(c) || c == '_';
}

/// What continues an identifier: letters, digits, `_` and `@`.
constexpr bool is_ident_char(char c) noexcept {
  return is_ident_start(c) || is_digit(c) || c == '@';
}

/// The end of the identifier starting at `i`: its characters, then an optional `?` or `!`.
constexpr std::size_t identifier_end(std::string_view text, std::size_t i) noexcept {
  while (i < text.size() && is_ident_char(text[i])) {
    ++i;
  }
  if (i < text.size() && (text[i] == '?' || text[i] == '!')) {
    ++i;
  }
  return i;
}

/// Just past the closing quote of the quoted span starting at `i` (whose character is the
/// quote), skipping backslash escapes; npos when it is not closed.
constexpr std::size_t quoted_close(std::string_view text, std::size_t i) noexcept {
  char quote = text[i++];
  while (i < text.size()) {
    if (text[i] == '\\') {
      i += 2;
    } else if (text[i++] == quote) {
      return i;
    }
  }
  return std::string_view::npos;
}

/// `quoted_close`, or the end of `text` for a span that is not closed.
constexpr std::size_t quoted_end(std::string_view text, std::size_t i) noexcept {
  std::size_t close = quoted_close(text, i);
  return close == std::string_view::npos ? text.size() : close;
}

} // namespace vigil::text_chars
