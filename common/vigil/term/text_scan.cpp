// SPDX-License-Identifier: Apache-2.0
// text_scanner: the lexing of term text's scalars for parse_term: atoms, quoted strings and
// their escapes, integers and floats, pids and references.
#include "vigil/term/text_scan.hpp"

#include "vigil/term/text_chars.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

namespace vigil::detail {
namespace {

using namespace std::string_view_literals;
using namespace text_chars;

/// The value of `c` as a digit in `radix` (at most 16), or -1.
int digit_value(char c, unsigned radix) noexcept {
  int v = -1;
  if (is_digit(c)) {
    v = c - '0';
  } else if (c >= 'a' && c <= 'f') {
    v = c - 'a' + 10;
  } else if (c >= 'A' && c <= 'F') {
    v = c - 'A' + 10;
  }
  return v < static_cast<int>(radix) ? v : -1;
}

void append_utf8(std::uint32_t cp, std::string& out) {
  auto byte = [&](std::uint32_t b) { out += static_cast<char>(b); };
  if (cp < 0x80) {
    byte(cp);
  } else if (cp < 0x800) {
    byte(0xC0 | (cp >> 6));
    byte(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    byte(0xE0 | (cp >> 12));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  } else {
    byte(0xF0 | (cp >> 18));
    byte(0x80 | ((cp >> 12) & 0x3F));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  }
}

} // namespace

bool text_scanner::next_is_digit(std::size_t ahead) const noexcept {
  return pos_ + ahead < text_.size() && is_digit(text_[pos_ + ahead]);
}

bool text_scanner::parse_scalar(term& out, bool* keyword) {
  switch (text_[pos_]) {
  case '"':
  case '\'': return parse_quoted_value(out, keyword);
  case ':': return parse_colon_atom(out);
  case '#': return parse_hash(out);
  case '<': ++pos_; return parse_pid(out);
  default: break;
  }
  if (text_[pos_] == '-' || is_digit(text_[pos_])) {
    return parse_number(out);
  }
  if (is_ident_start(text_[pos_])) {
    return parse_word(out, keyword);
  }
  return fail_expected("a term");
}

bool text_scanner::make_atom(std::string_view name, std::size_t start, term& out) {
  if (name.size() > atom::max_length) {
    return fail_at(start, "atom longer than " + std::to_string(atom::max_length) + " bytes");
  }
  std::optional<atom> a =
      new_atoms_ != nullptr ? atom::try_make(name, *new_atoms_) : atom::try_make(name);
  if (!a) {
    return fail_at(start, new_atoms_ != nullptr
                              ? "new atom '" + std::string(name)
                                    + "' refused: this source may create no more atoms (limit "
                                    + std::to_string(new_atoms_->limit())
                                    + "); use an existing atom or a string"
                              : std::string("atom table full"));
  }
  out = term(*a);
  return true;
}

std::string_view text_scanner::scan_identifier() noexcept {
  std::size_t start = pos_;
  if (at_end() || !is_ident_start(text_[pos_])) {
    return {};
  }
  while (!at_end() && is_ident_char(text_[pos_])) {
    ++pos_;
  }
  if (next_is('?') || next_is('!')) {
    ++pos_;
  }
  return text_.substr(start, pos_ - start);
}

bool text_scanner::parse_word(term& out, bool* keyword) {
  std::size_t start = pos_;
  std::string_view name = scan_identifier();
  if (keyword != nullptr && consume(':')) {
    *keyword = true;
    return make_atom(name, start, out);
  }
  if (name == "NaN") {
    out = term(std::numeric_limits<double>::quiet_NaN());
    return true;
  }
  if (name == "Infinity") {
    out = term(std::numeric_limits<double>::infinity());
    return true;
  }
  return make_atom(name, start, out);
}

bool text_scanner::parse_colon_atom(term& out) {
  std::size_t start = pos_++;
  if (next_is('"') || next_is('\'')) {
    std::string name;
    return parse_quoted(name) && make_atom(name, start, out);
  }
  std::string_view name = scan_identifier();
  if (name.empty()) {
    return fail_expected("an atom name");
  }
  return make_atom(name, start, out);
}

bool text_scanner::parse_quoted_value(term& out, bool* keyword) {
  std::size_t start = pos_;
  bool is_atom = text_[pos_] == '\'';
  std::string text;
  if (!parse_quoted(text)) {
    return false;
  }
  if (keyword != nullptr && consume(':')) {
    *keyword = true;
    return make_atom(text, start, out);
  }
  if (is_atom) {
    return make_atom(text, start, out);
  }
  out = term(text);
  return true;
}

bool text_scanner::parse_quoted(std::string& out) {
  char quote = text_[pos_++];
  const std::array<char, 2> stops{quote, '\\'};
  while (true) {
    std::size_t stop = text_.find_first_of(std::string_view(stops.data(), stops.size()), pos_);
    stop = std::min(stop, text_.size());
    out.append(text_.substr(pos_, stop - pos_));
    pos_ = stop;
    if (at_end()) {
      return fail_expected(quote == '"' ? "'\"'" : "\"'\"");
    }
    if (consume(quote)) {
      return true;
    }
    if (!parse_escape(out)) {
      return false;
    }
  }
}

bool text_scanner::parse_escape(std::string& out) {
  // Elixir's escapes, plus \' for Erlang's quoted atoms.
  static constexpr std::string_view names = "ntre0abfvsd\"'\\#"sv;
  static constexpr std::string_view bytes = "\n\t\r\x1B\0\a\b\f\v \x7F\"'\\#"sv;
  static_assert(names.size() == bytes.size());
  std::size_t start = pos_++;
  if (at_end()) {
    return fail_expected("an escape sequence");
  }
  char c = text_[pos_++];
  if (std::size_t i = names.find(c); i != std::string_view::npos) {
    out += bytes[i];
    return true;
  }
  std::uint32_t value = 0;
  switch (c) {
  case '\n': return true; // a line continuation, as in Elixir
  case 'x':
    if (!parse_hex_digits(2, value)) {
      return false;
    }
    out += static_cast<char>(value);
    return true;
  case 'u': return parse_unicode_escape(start, out);
  default: return fail_at(start, "invalid escape sequence");
  }
}

bool text_scanner::parse_hex_digits(int max_digits, std::uint32_t& value) {
  int n = 0;
  value = 0;
  for (int d = 0; n < max_digits && !at_end() && (d = digit_value(text_[pos_], 16)) >= 0; ++n) {
    value = value * 16 + static_cast<std::uint32_t>(d);
    ++pos_;
  }
  return n > 0 || fail_expected("a hex digit");
}

bool text_scanner::parse_unicode_escape(std::size_t start, std::string& out) {
  std::uint32_t cp = 0;
  if (consume('{')) {
    if (!parse_hex_digits(6, cp) || !expect('}', "'}'")) {
      return false;
    }
  } else {
    std::size_t digits = pos_;
    if (!parse_hex_digits(4, cp)) {
      return false;
    }
    if (pos_ - digits != 4) {
      return fail_expected("a hex digit");
    }
  }
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return fail_at(start, "invalid code point");
  }
  append_utf8(cp, out);
  return true;
}

std::size_t text_scanner::scan_digits(unsigned radix) noexcept {
  std::size_t n = 0;
  while (!at_end()) {
    if (digit_value(text_[pos_], radix) >= 0) {
      ++pos_;
      ++n;
    } else if (n > 0 && text_[pos_] == '_' && pos_ + 1 < text_.size()
               && digit_value(text_[pos_ + 1], radix) >= 0) {
      ++pos_;
    } else {
      break;
    }
  }
  return n;
}

bool text_scanner::parse_number(term& out) {
  std::size_t start = pos_;
  bool negative = consume('-');
  if (negative && consume("Infinity")) {
    out = term(-std::numeric_limits<double>::infinity());
    return true;
  }
  if (!next_is_digit()) {
    return fail_expected("a digit");
  }
  static constexpr std::string_view prefixes = "xob";
  if (std::size_t p = next_is('0') ? prefixes.find(peek(1)) : std::string_view::npos;
      p != std::string_view::npos) {
    unsigned radix = std::array<unsigned, 3>{16, 8, 2}[p];
    pos_ += 2;
    std::size_t digits = pos_;
    if (scan_digits(radix) == 0) {
      return fail_expected("a digit");
    }
    return make_integer(text_.substr(digits, pos_ - digits), negative, radix, start, out);
  }
  std::size_t digits = pos_;
  scan_digits(10);
  std::size_t digits_end = pos_;
  bool is_float = false;
  if (next_is('.') && next_is_digit(1)) {
    ++pos_;
    scan_digits(10);
    is_float = true;
  }
  if ((next_is('e') || next_is('E'))
      && (next_is_digit(1) || ((next_is('+', 1) || next_is('-', 1)) && next_is_digit(2)))) {
    pos_ += 2;
    scan_digits(10);
    is_float = true;
  }
  if (is_float) {
    return make_float(text_.substr(start, pos_ - start), start, out);
  }
  return make_integer(text_.substr(digits, digits_end - digits), negative, 10, start, out);
}

bool text_scanner::make_integer(std::string_view digits, bool negative, unsigned radix,
                                std::size_t start, term& out) {
  const std::uint64_t limit = negative ? std::uint64_t{1} << 63U : (std::uint64_t{1} << 63U) - 1;
  std::uint64_t magnitude = 0;
  for (char c : digits) {
    if (c == '_') {
      continue;
    }
    auto d = static_cast<std::uint64_t>(digit_value(c, radix));
    if (magnitude > (limit - d) / radix) {
      return fail_at(start, "integer out of range");
    }
    magnitude = magnitude * radix + d;
  }
  // Modular conversion (defined in C++20) turns the magnitude 2^63 into INT64_MIN.
  out = term(static_cast<std::int64_t>(negative ? std::uint64_t{0} - magnitude : magnitude));
  return true;
}

bool text_scanner::make_float(std::string_view literal, std::size_t start, term& out) {
  std::string cleaned;
  if (literal.find('_') != std::string_view::npos) {
    std::copy_if(literal.begin(), literal.end(), std::back_inserter(cleaned),
                 [](char c) { return c != '_'; });
    literal = cleaned;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return fail_at(start, "float out of range");
  }
  if (ec != std::errc() || end != literal.data() + literal.size()) {
    return fail_at(start, "invalid float");
  }
  out = term(value);
  return true;
}

bool text_scanner::parse_hash(term& out) {
  if (consume("#PID<")) {
    return parse_pid(out);
  }
  if (consume("#Reference<") || consume("#Ref<")) {
    return parse_reference(out);
  }
  return fail_expected("'#PID<' or '#Reference<'");
}

bool text_scanner::parse_u32(std::uint32_t& value) {
  std::size_t start = pos_;
  if (!next_is_digit()) {
    return fail_expected("a digit");
  }
  std::uint64_t v = 0;
  while (next_is_digit()) {
    v = v * 10 + static_cast<std::uint64_t>(text_[pos_++] - '0');
    if (v > std::numeric_limits<std::uint32_t>::max()) {
      return fail_at(start, "number out of range");
    }
  }
  value = static_cast<std::uint32_t>(v);
  return true;
}

template <std::size_t N>
bool text_scanner::parse_dotted(std::array<std::uint32_t, N>& fields) {
  for (std::size_t i = 0; i < N; ++i) {
    if ((i > 0 && !expect('.', "'.'")) || !parse_u32(fields[i])) {
      return false;
    }
  }
  return expect('>', "'>'");
}

bool text_scanner::parse_pid(term& out) {
  std::array<std::uint32_t, 3> f{};
  if (!parse_dotted(f)) {
    return false;
  }
  out = term(pid{f[0], f[1], f[2]});
  return true;
}

bool text_scanner::parse_reference(term& out) {
  std::size_t start = pos_;
  std::array<std::uint32_t, 4> f{};
  if (!parse_dotted(f)) {
    return false;
  }
  if (f[0] > reference::max_node) {
    return fail_at(start, "reference node out of range");
  }
  out = term(reference{f[0], f[1], f[2], f[3]});
  return true;
}

} // namespace vigil::detail
