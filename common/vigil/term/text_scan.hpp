// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"
#include "vigil/term/text.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace vigil::detail {

/// The cursor over `parse_term`'s text, and the lexing of everything but containers:
/// atoms, quoted strings and their escapes, numbers, pids and references. `parse_term`'s
/// parser builds containers on top of it.
///
/// Each `parse_*`, `fail_*` and `expect` returns false once it has recorded an error, which
/// `make_error` then reports with its line and column.
class text_scanner {
public:
  /// New atoms take one each from `new_atoms` when it is given (text from outside).
  explicit text_scanner(std::string_view text, atom_budget* new_atoms = nullptr) noexcept
      : text_(text), new_atoms_(new_atoms) {}

  [[nodiscard]] bool at_end() const noexcept { return pos_ >= text_.size(); }

  /// The byte `ahead` bytes past the cursor, or a space past the end.
  [[nodiscard]] char peek(std::size_t ahead) const noexcept {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : ' ';
  }

  [[nodiscard]] std::size_t position() const noexcept { return pos_; }

  /// Moves past one byte, which must exist.
  void advance() noexcept { ++pos_; }

  [[nodiscard]] bool next_is(char c, std::size_t ahead = 0) const noexcept {
    return pos_ + ahead < text_.size() && text_[pos_ + ahead] == c;
  }

  bool consume(char c) noexcept {
    if (next_is(c)) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool consume(std::string_view s) noexcept {
    if (text_.substr(pos_).starts_with(s)) {
      pos_ += s.size();
      return true;
    }
    return false;
  }

  void skip_space() noexcept {
    while (!at_end()
           && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n'
               || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool fail_at(std::size_t pos, std::string message) {
    error_pos_ = pos;
    error_ = std::move(message);
    return false;
  }

  /// Records "expected `what`" at the cursor ("unexpected end of input, ..." at the end).
  bool fail_expected(std::string_view what) {
    std::string message = at_end() ? "unexpected end of input, expected " : "expected ";
    message += what;
    return fail_at(pos_, std::move(message));
  }

  bool expect(char c, std::string_view what) { return consume(c) || fail_expected(what); }

  /// The recorded error, with its 1-based line and column.
  [[nodiscard]] parse_error make_error() const {
    parse_error e{1, 1, error_};
    for (std::size_t i = 0; i < error_pos_; ++i) {
      if (text_[i] == '\n') {
        ++e.line;
        e.column = 1;
      } else {
        ++e.column;
      }
    }
    return e;
  }

  /// Parses one term that is not a container; the cursor must not be at the end. Where
  /// `keyword` is given (list and map items), `name:` and `"name":` parse as an atom and set
  /// `*keyword`.
  bool parse_scalar(term& out, bool* keyword);

private:
  [[nodiscard]] bool next_is_digit(std::size_t ahead = 0) const noexcept;

  bool make_atom(std::string_view name, std::size_t start, term& out);
  std::string_view scan_identifier() noexcept;
  bool parse_word(term& out, bool* keyword);
  bool parse_colon_atom(term& out);
  bool parse_quoted_value(term& out, bool* keyword);
  /// With the cursor on the opening quote, appends the unescaped text to `out`.
  bool parse_quoted(std::string& out);
  bool parse_escape(std::string& out);
  /// Reads up to `max_digits` hex digits into `value`; fails if there are none.
  bool parse_hex_digits(int max_digits, std::uint32_t& value);
  bool parse_unicode_escape(std::size_t start, std::string& out);

  /// Scans digits of `radix`, each pair optionally separated by one `_`; returns how
  /// many digits it read.
  std::size_t scan_digits(unsigned radix) noexcept;
  bool parse_number(term& out);
  bool make_integer(std::string_view digits, bool negative, unsigned radix, std::size_t start,
                    term& out);
  bool make_float(std::string_view literal, std::size_t start, term& out);

  bool parse_hash(term& out);
  bool parse_u32(std::uint32_t& value);
  /// Parses `n.n.n>` (as many fields as `fields` holds), after the opening `<`.
  template <std::size_t N>
  bool parse_dotted(std::array<std::uint32_t, N>& fields);
  /// Parses a pid after its opening `<` (or `#PID<`).
  bool parse_pid(term& out);
  bool parse_reference(term& out);

  std::string_view text_;
  atom_budget* new_atoms_;
  std::size_t pos_ = 0;
  std::size_t error_pos_ = 0;
  std::string error_;
};

} // namespace vigil::detail
