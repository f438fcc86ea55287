// SPDX-License-Identifier: Apache-2.0
// Pattern text: the recursive-descent parser from Elixir-style syntax to `pattern`'s nodes
// (binds with type tests, literals, containers), and `pattern::to_string`, which prints them.
#include "vigil/term/pattern.hpp"
#include "vigil/term/pattern_detail.hpp"
#include "vigil/term/text_chars.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>

namespace vigil {
namespace {

// Indexed by type_test.
constexpr std::array<std::string_view, 11> type_names = {
    "any", "atom",      "integer", "float", "number", "string",
    "pid", "reference", "tuple",   "list",  "map",
};

constexpr std::uint32_t max_depth = 64;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

bool is_ident_start(char c) {
  return is_lower(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

/// The end of the identifier at `at`. Keyword keys follow Elixir's unquoted atom grammar,
/// `[a-zA-Z_][a-zA-Z0-9_@]*[?!]?`; bind names have no `@` and no suffix.
std::size_t ident_end(std::string_view text, std::size_t at, bool keyword) {
  std::size_t i = at;
  while (i < text.size() && (is_ident_char(text[i]) || (keyword && text[i] == '@'))) {
    ++i;
  }
  if (keyword && i > at && i < text.size() && (text[i] == '?' || text[i] == '!')) {
    ++i;
  }
  return i;
}

/// True for atom names that print as a keyword key (`name: value`).
bool is_keyword_name(std::string_view name) {
  return !name.empty() && is_ident_start(name[0]) && ident_end(name, 0, true) == name.size();
}

bool is_quote(char c) {
  return c == '"' || c == '\'';
}

/// The end of the scalar literal at `at` (number, string, atom, pid, reference): up to the
/// next delimiter outside quotes and angle brackets. `parse_term` reads what lies between.
std::size_t scalar_end(std::string_view text, std::size_t at) {
  std::size_t i = at;
  while (i < text.size()) {
    char c = text[i];
    if (is_quote(c)) {
      i = text_chars::quoted_end(text, i);
    } else if (c == '<') {
      std::size_t close = text.find('>', i);
      i = close == std::string_view::npos ? text.size() : close + 1;
    } else if (is_space(c) || std::string_view(",{}[]%").find(c) != std::string_view::npos
               || text.substr(i, 2) == "=>" || text.substr(i, 2) == "::") {
      break;
    } else {
      ++i;
    }
  }
  return i;
}

std::optional<type_test> type_named(std::string_view name) {
  for (std::size_t i = 0; i < type_names.size(); ++i) {
    if (type_names[i] == name) {
      return static_cast<type_test>(i);
    }
  }
  return std::nullopt;
}

/// Recursive descent over pattern syntax, emitting `pattern`'s flat pre-order nodes. A map
/// node is followed by a (literal key, value subtree) pair per entry.
template <class Kind, class Node>
class pattern_parser {
public:
  explicit pattern_parser(std::string_view text) : text_(text) {}

  /// Parses the whole text into `nodes` and `names`; the error if it fails.
  std::optional<parse_error> run() {
    if (parse_pattern(0)) {
      skip_space();
      if (pos_ != text_.size()) {
        fail("expected end of input", pos_);
      }
    }
    return error_;
  }

  std::vector<Node> nodes;
  std::vector<std::string> names;

private:
  bool fail(std::string message, std::size_t at) {
    parse_error e{1, 1, std::move(message)};
    for (std::size_t i = 0; i < at && i < text_.size(); ++i) {
      e.column = text_[i] == '\n' ? 1 : e.column + 1;
      e.line += text_[i] == '\n' ? 1U : 0U;
    }
    error_ = std::move(e);
    return false;
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) {
      ++pos_;
    }
  }

  bool consume(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) {
      return false;
    }
    pos_ += token.size();
    return true;
  }

  void push(Kind kind, term value = {}, type_test test = type_test::any, std::int32_t slot = -1) {
    Node n;
    n.kind = kind;
    n.test = test;
    n.slot = slot;
    n.value = std::move(value);
    nodes.push_back(std::move(n));
  }

  void finish(std::size_t start, std::uint32_t arity) {
    nodes[start].arity = arity;
    nodes[start].extent = static_cast<std::uint32_t>(nodes.size() - start);
    detail::collapse_if_ground<Kind>(nodes, start, ground_ > 0);
  }

  /// Parses one pattern inside `depth` containers.
  bool parse_pattern(std::uint32_t depth) {
    skip_space();
    char c = pos_ < text_.size() ? text_[pos_] : '\0';
    if ((c == '{' || c == '[' || c == '%') && depth >= max_depth) {
      return fail("nesting deeper than 64", pos_);
    }
    if (c == '{' || c == '[') {
      return parse_sequence(c == '{' ? Kind::tuple : Kind::list, depth);
    }
    if (text_.substr(pos_, 2) == "%{") {
      return parse_map(depth);
    }
    if (is_lower(c) || c == '_') {
      return parse_name();
    }
    return parse_scalar();
  }

  bool parse_sequence(Kind kind, std::uint32_t depth) {
    char close = kind == Kind::tuple ? '}' : ']';
    std::size_t start = nodes.size();
    push(kind);
    ++pos_;
    std::uint32_t arity = 0;
    if (!consume(std::string_view(&close, 1))) {
      do {
        if (!(kind == Kind::list ? parse_list_element(depth + 1) : parse_pattern(depth + 1))) {
          return false;
        }
        ++arity;
      } while (consume(","));
      if (!consume(std::string_view(&close, 1))) {
        return fail(std::string("expected ',' or '") + close + "'", pos_);
      }
    }
    finish(start, arity);
    return true;
  }

  bool parse_list_element(std::uint32_t depth) {
    std::optional<term> key;
    if (!parse_keyword(key)) {
      return false;
    }
    if (!key) {
      return parse_pattern(depth);
    }
    std::size_t start = nodes.size();
    push(Kind::tuple);
    push(Kind::literal, *key);
    if (!parse_pattern(depth + 1)) {
      return false;
    }
    finish(start, 2);
    return true;
  }

  bool parse_map(std::uint32_t depth) {
    std::size_t start = nodes.size();
    push(Kind::map);
    pos_ += 2;
    std::uint32_t arity = 0;
    if (!consume("}")) {
      do {
        if (!parse_map_entry(depth + 1)) {
          return false;
        }
        ++arity;
      } while (consume(","));
      if (!consume("}")) {
        return fail("expected ',' or '}'", pos_);
      }
    }
    finish(start, arity);
    return true;
  }

  bool parse_map_entry(std::uint32_t depth) {
    std::optional<term> key;
    if (!parse_keyword(key)) {
      return false;
    }
    if (key) {
      push(Kind::literal, *key);
    } else {
      ++ground_;
      bool parsed = parse_pattern(depth);
      --ground_;
      if (!parsed) {
        return false;
      }
      if (!consume("=>")) {
        return fail("expected '=>'", pos_);
      }
    }
    return parse_pattern(depth);
  }

  /// Reads a keyword key (`name:` or `"quoted name":`) into `key` if one is next.
  bool parse_keyword(std::optional<term>& key) {
    skip_space();
    std::size_t start = pos_;
    bool quoted = start < text_.size() && is_quote(text_[start]);
    std::size_t end = quoted ? text_chars::quoted_end(text_, start) : ident_end(text_, start, true);
    if (end == start || (!quoted && !is_ident_start(text_[start])) || end >= text_.size()
        || text_[end] != ':' || text_.substr(end, 2) == "::") {
      return true;
    }
    pos_ = end + 1;
    if (quoted) {
      std::string atom_text = ":";
      atom_text.append(text_.substr(start, end - start));
      auto parsed = parse_term(atom_text);
      if (!parsed) {
        return fail("invalid keyword key", start);
      }
      key = std::move(parsed).value();
      return true;
    }
    auto name = atom::try_make(text_.substr(start, end - start));
    if (!name) {
      return fail("atom name too long", start);
    }
    key = term(*name);
    return true;
  }

  bool parse_name() {
    std::size_t start = pos_;
    pos_ = ident_end(text_, start, false);
    std::string_view name = text_.substr(start, pos_ - start);
    if (name == "true" || name == "false" || name == "nil") {
      push(Kind::literal, term(atom(name)));
      return true;
    }
    if (ground_ > 0) {
      return fail("map keys must be literals", start);
    }
    type_test test = type_test::any;
    if (consume("::")) {
      skip_space();
      std::size_t type_start = pos_;
      pos_ = ident_end(text_, type_start, false);
      auto named = type_named(text_.substr(type_start, pos_ - type_start));
      if (!named) {
        return fail("expected a type (atom, integer, float, number, string, pid, reference, "
                    "tuple, list or map)",
                    type_start);
      }
      test = *named;
    }
    if (name[0] == '_') {
      push(Kind::any, {}, test);
      return true;
    }
    auto found = std::find(names.begin(), names.end(), name);
    if (found == names.end() && names.size() == bindings::capacity) {
      return fail("more than 16 binds in one pattern", start);
    }
    if (found == names.end()) {
      found = names.emplace(names.end(), name);
    }
    push(Kind::bind, {}, test, static_cast<std::int32_t>(found - names.begin()));
    return true;
  }

  bool parse_scalar() {
    std::size_t start = pos_;
    pos_ = scalar_end(text_, start);
    if (pos_ == start) {
      return fail("expected a pattern", start);
    }
    auto parsed = parse_term(text_.substr(start, pos_ - start));
    if (!parsed) {
      // Report the position in the whole text, not in the scalar.
      const parse_error& inner = parsed.error();
      fail(inner.message, start);
      if (inner.line > 1) {
        error_->line += inner.line - 1;
        error_->column = inner.column;
      } else {
        error_->column += inner.column - 1;
      }
      return false;
    }
    push(Kind::literal, std::move(parsed).value());
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int ground_ = 0; // > 0 while reading a map key, which must be a literal
  std::optional<parse_error> error_;
};

template <class Kind, class Node>
std::size_t print_node(const std::vector<Node>& nodes, const std::vector<std::string>& names,
                       std::size_t index, std::string& out) {
  const Node& n = nodes[index];
  std::size_t next = index + 1;
  switch (n.kind) {
  case Kind::any: out += '_'; break;
  case Kind::bind: out += names[static_cast<std::size_t>(n.slot)]; break;
  case Kind::literal: print(n.value, out); break;
  case Kind::tuple:
  case Kind::list:
    out += n.kind == Kind::tuple ? '{' : '[';
    for (std::uint32_t i = 0; i < n.arity; ++i) {
      out += i == 0 ? "" : ", ";
      next = print_node<Kind>(nodes, names, next, out);
    }
    out += n.kind == Kind::tuple ? '}' : ']';
    break;
  case Kind::map:
    out += "%{";
    for (std::uint32_t i = 0; i < n.arity; ++i) {
      out += i == 0 ? "" : ", ";
      const term& key = nodes[next].value;
      if (key.is_atom() && is_keyword_name(key.as_atom().name())) {
        (out += key.as_atom().name()) += ": ";
      } else {
        print(key, out);
        out += " => ";
      }
      next = print_node<Kind>(nodes, names, next + 1, out);
    }
    out += '}';
    break;
  }
  if (n.test != type_test::any) {
    (out += " :: ") += type_names[static_cast<std::size_t>(n.test)];
  }
  return next;
}

} // namespace

result<pattern, parse_error> pattern::parse(std::string_view text) {
  pattern_parser<node_kind, node> parser(text);
  if (auto failure = parser.run()) {
    return *std::move(failure);
  }
  pattern p;
  p.nodes_ = std::move(parser.nodes);
  p.names_ = std::move(parser.names);
  return p;
}

std::string pattern::to_string() const {
  std::string out;
  if (!nodes_.empty()) {
    print_node<node_kind>(nodes_, names_, 0, out);
  }
  return out;
}

} // namespace vigil
