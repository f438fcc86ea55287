// SPDX-License-Identifier: Apache-2.0
// Identifiers in term text replaced (the shell's variables, `self()`), skipping strings,
// atoms and other literals, and the result parsed with errors placed in the original text.
#include "vigil/term/text_substitute.hpp"

#include "vigil/term/text_chars.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vigil {
namespace {

using namespace text_chars;

// The end of the number starting at `i`: digits, letters (0x1F, 1e5), `_` and `.digit`.
std::size_t skip_number(std::string_view text, std::size_t i) noexcept {
  while (i < text.size()
         && (is_ident_char(text[i])
             || (text[i] == '.' && i + 1 < text.size() && is_digit(text[i + 1])))) {
    ++i;
  }
  return i;
}

// The end of the span starting at `i` that never holds a variable: a quoted string or atom,
// a `:atom`, a `#PID<...>` literal or a number; `i` itself when none starts there.
std::size_t skip_literal(std::string_view text, std::size_t i) noexcept {
  char c = text[i];
  char next = i + 1 < text.size() ? text[i + 1] : ' ';
  if (c == '"' || c == '\'') {
    return quoted_end(text, i);
  }
  if (c == ':' && (next == '"' || next == '\'')) {
    return quoted_end(text, i + 1);
  }
  if (c == ':' && is_ident_start(next)) {
    return identifier_end(text, i + 1);
  }
  if (c == '#' && is_upper(next)) {
    std::size_t close = text.find('>', i);
    return close == std::string_view::npos ? text.size() : close + 1;
  }
  if (is_digit(c)) {
    return skip_number(text, i);
  }
  return i;
}

/// One replacement that `substitute` made: where it was in the original text and how long
/// the original and the replacement were.
struct replacement_span {
  std::size_t at = 0;
  std::size_t original = 0;
  std::size_t replaced = 0;
};

std::string substitute(std::string_view text, const identifier_lookup& lookup,
                       std::vector<replacement_span>& spans) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::size_t end = skip_literal(text, i); end != i) {
      out.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    if (!is_ident_start(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t end = identifier_end(text, i);
    std::string_view name = text.substr(i, end - i);
    bool qualified = i > 0 && text[i - 1] == '.';
    bool keyword =
        end < text.size() && text[end] == ':' && (end + 1 >= text.size() || text[end + 1] != ':');
    std::optional<std::string> replacement;
    if (!qualified && !keyword) {
      replacement = lookup(name);
    }
    if (!replacement) {
      out += name;
      i = end;
      continue;
    }
    if (name == "self" && text.substr(end).starts_with("()")) {
      end += 2;
    }
    spans.push_back({i, end - i, replacement->size()});
    out += *replacement;
    i = end;
  }
  return out;
}

// The byte offset of 1-based `line` and `column` in `text`.
std::size_t offset_of(std::string_view text, std::uint32_t line, std::uint32_t column) {
  std::size_t at = 0;
  for (std::uint32_t l = 1; l < line && at < text.size(); ++l) {
    std::size_t nl = text.find('\n', at);
    at = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  return at + (column > 0 ? column - 1 : 0);
}

// Moves `e` from the substituted text back to the original one.
parse_error locate_in_original(parse_error e, std::string_view original,
                               const std::vector<replacement_span>& spans,
                               std::string_view substituted) {
  std::size_t at = offset_of(substituted, e.line, e.column);
  std::ptrdiff_t shift = 0; // substituted minus original, for the spans before `at`
  for (const replacement_span& span : spans) {
    std::size_t start = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(span.at) + shift);
    if (at < start) {
      break;
    }
    if (at < start + span.replaced) {
      shift = static_cast<std::ptrdiff_t>(at) - static_cast<std::ptrdiff_t>(span.at);
      break;
    }
    shift +=
        static_cast<std::ptrdiff_t>(span.replaced) - static_cast<std::ptrdiff_t>(span.original);
  }
  std::size_t mapped =
      std::min(static_cast<std::size_t>(static_cast<std::ptrdiff_t>(at) - shift), original.size());
  std::size_t line_start = 0;
  if (mapped > 0) {
    std::size_t nl = original.rfind('\n', mapped - 1);
    line_start = nl == std::string_view::npos ? 0 : nl + 1;
  }
  e.line = static_cast<std::uint32_t>(
      1
      + std::count(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(mapped), '\n'));
  e.column = static_cast<std::uint32_t>(mapped - line_start + 1);
  return e;
}

} // namespace

bool is_identifier(std::string_view text) noexcept {
  return !text.empty() && is_ident_start(text[0]) && identifier_end(text, 0) == text.size();
}

std::string substitute_identifiers(std::string_view text, const identifier_lookup& lookup) {
  std::vector<replacement_span> spans;
  return substitute(text, lookup, spans);
}

result<term, parse_error> parse_substituted(std::string_view text, const identifier_lookup& lookup,
                                            parse_limits limits) {
  std::vector<replacement_span> spans;
  std::string substituted = substitute(text, lookup, spans);
  auto parsed = parse_term(substituted, limits);
  if (!parsed) {
    return locate_in_original(parsed.error(), text, spans, substituted);
  }
  return std::move(*parsed);
}

} // namespace vigil
