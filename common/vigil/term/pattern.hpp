// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/term/term.hpp"
#include "vigil/term/text.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

/// What a typed bind accepts: `from :: pid` binds only a pid.
enum class type_test : std::uint8_t {
  any,
  atom,
  integer,
  floating,
  number, // integer or float
  string,
  pid,
  reference,
  tuple,
  list,
  map,
};

/// True when `t` passes `test`.
[[nodiscard]] bool passes(type_test test, const term& t) noexcept;

/// The values a successful match bound, by slot (the order binds first appear in the
/// pattern). Holds terms inline: filling it never allocates.
class bindings {
public:
  static constexpr std::size_t capacity = 16;

  [[nodiscard]] const term& operator[](std::size_t slot) const noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
  friend class pattern;
  std::array<term, capacity> values_{};
  std::size_t size_ = 0;
};

/// A pattern, as `receive` uses it: literals, the wildcard `_`, named binds (`from`), typed
/// binds (`from :: pid`), and tuples, lists (exact length) and maps (the listed keys must be
/// present; others may be) of patterns. A name bound twice must bind equal terms, as in
/// Erlang: `{x, x}` matches `{1, 1}` but not `{1, 2}`.
///
/// A pattern is built once and matched many times; `match` never allocates.
class pattern {
public:
  /// `_`: matches anything, binds nothing.
  static pattern any();
  /// A named bind, optionally typed. Names starting with `_` bind nothing.
  static pattern bind(std::string_view name, type_test test = type_test::any);
  /// Matches terms equal to `value`.
  static pattern literal(term value);
  static pattern tuple(std::initializer_list<pattern> elements);
  static pattern list(std::initializer_list<pattern> elements);
  static pattern map(std::initializer_list<std::pair<term, pattern>> entries);

  /// A literal: lets `pattern::tuple({pattern::bind("from"), atoms::ping})` read naturally.
  pattern(term value); // NOLINT(*-explicit-*)

  pattern(atom value) : pattern(term(value)) {} // NOLINT(*-explicit-*)

  /// Parses Elixir pattern syntax: `{from, :ping}`, `{_, _}`, `{from :: pid, msg}`,
  /// `%{"k" => v}`. A bare lowercase identifier is a bind (not an atom, unlike in
  /// `parse_term`); `_` and `_name` are wildcards; everything else is a literal term.
  [[nodiscard]] static result<pattern, parse_error> parse(std::string_view text);

  /// True when `t` matches. Does not allocate.
  [[nodiscard]] bool matches(const term& t) const noexcept;
  /// True when `t` matches, with the bound values in `out`. Does not allocate; on failure
  /// `out` holds no meaningful values.
  [[nodiscard]] bool match(const term& t, bindings& out) const noexcept;

  /// The head every matching term shares, if there is one: when every term this pattern
  /// matches is a tuple of `arity` elements whose first element equals a fixed term, returns
  /// that term (valid while the pattern lives) and sets `arity`; otherwise null. A mailbox
  /// uses it to skip, untested, the messages that cannot match.
  [[nodiscard]] const term* tuple_head(std::size_t& arity) const noexcept;

  /// Bind names by slot.
  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }

  /// The slot of bind `name`, or -1.
  [[nodiscard]] int slot(std::string_view name) const noexcept;

  /// The pattern in the syntax `parse` reads.
  [[nodiscard]] std::string to_string() const;

private:
  enum class node_kind : std::uint8_t { any, bind, literal, tuple, list, map };

  // Patterns are stored flat, in pre-order: a container node is followed by its children.
  // For a map, each entry is a literal key node followed by the entry's value pattern, and
  // `arity` counts entries.
  struct node {
    node_kind kind = node_kind::any;
    type_test test = type_test::any;
    std::uint32_t arity = 0;  // children of a container
    std::uint32_t extent = 1; // nodes in this subtree, itself included
    std::int32_t slot = -1;   // bind slot
    term value;               // literal, or the key of a map entry
  };

  pattern() = default;
  static pattern container(node_kind kind, std::initializer_list<pattern> children);
  void append_subtree(const pattern& child, const term* key);
  bool match_at(std::size_t index, const term& t, bindings& out) const noexcept;

  std::vector<node> nodes_;
  std::vector<std::string> names_;
};

} // namespace vigil
