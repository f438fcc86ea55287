// SPDX-License-Identifier: Apache-2.0
#include "vigil/term/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace vigil {

std::string parse_error::to_string() const {
  std::string out = std::to_string(line);
  out += ':';
  out += std::to_string(column);
  out += ": ";
  out += message;
  return out;
}

namespace {

using namespace std::string_view_literals;

// Each nesting level costs a few stack frames; this ceiling keeps a generous
// `max_depth` from letting hostile input exhaust a small thread stack.
constexpr std::uint32_t depth_ceiling = 1024;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

bool is_ident_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_ident_char(char c) noexcept {
  return is_ident_start(c) || is_digit(c) || c == '@';
}

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

/// Recursive descent over the text. Each `parse_*` returns false once it has recorded
/// an error; recursion happens only through containers, which `parse_sequence` bounds.
class parser {
public:
  parser(std::string_view text, parse_limits limits)
      : text_(text), max_depth_(std::min(limits.max_depth, depth_ceiling)) {}

  result<term, parse_error> run() {
    term out;
    skip_space();
    if (parse_value(out, nullptr)) {
      skip_space();
      if (at_end()) {
        return out;
      }
      fail_expected("end of input");
    }
    return make_error();
  }

private:
  [[nodiscard]] bool at_end() const noexcept { return pos_ >= text_.size(); }

  [[nodiscard]] char peek(std::size_t ahead) const noexcept {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : ' ';
  }

  [[nodiscard]] bool next_is(char c, std::size_t ahead = 0) const noexcept {
    return pos_ + ahead < text_.size() && text_[pos_ + ahead] == c;
  }

  [[nodiscard]] bool next_is_digit(std::size_t ahead = 0) const noexcept {
    return pos_ + ahead < text_.size() && is_digit(text_[pos_ + ahead]);
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

  bool fail_expected(std::string_view what) {
    std::string message = at_end() ? "unexpected end of input, expected " : "expected ";
    message += what;
    return fail_at(pos_, std::move(message));
  }

  bool expect(char c, std::string_view what) { return consume(c) || fail_expected(what); }

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

  /// Parses one term. Where `keyword` is given (list and map items), `name:` and
  /// `"name":` parse as an atom and set `*keyword`.
  bool parse_value(term& out, bool* keyword) {
    if (at_end()) {
      return fail_expected("a term");
    }
    switch (text_[pos_]) {
    case '{': return parse_tuple(out);
    case '[': return parse_list(out);
    case '%': return parse_map(out);
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

  bool make_atom(std::string_view name, std::size_t start, term& out) {
    if (name.size() > atom::max_length) {
      return fail_at(start, "atom longer than " + std::to_string(atom::max_length) + " bytes");
    }
    std::optional<atom> a = atom::try_make(name);
    if (!a) {
      return fail_at(start, "atom table full");
    }
    out = term(*a);
    return true;
  }

  std::string_view scan_identifier() noexcept {
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

  bool parse_word(term& out, bool* keyword) {
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

  bool parse_colon_atom(term& out) {
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

  bool parse_quoted_value(term& out, bool* keyword) {
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

  /// With `pos_` on the opening quote, appends the unescaped text to `out`.
  bool parse_quoted(std::string& out) {
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

  bool parse_escape(std::string& out) {
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

  /// Reads up to `max_digits` hex digits into `value`; fails if there are none.
  bool parse_hex_digits(int max_digits, std::uint32_t& value) {
    int n = 0;
    value = 0;
    for (int d = 0; n < max_digits && !at_end() && (d = digit_value(text_[pos_], 16)) >= 0; ++n) {
      value = value * 16 + static_cast<std::uint32_t>(d);
      ++pos_;
    }
    return n > 0 || fail_expected("a hex digit");
  }

  bool parse_unicode_escape(std::size_t start, std::string& out) {
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

  /// Scans digits of `radix`, each pair optionally separated by one `_`; returns how
  /// many digits it read.
  std::size_t scan_digits(unsigned radix) noexcept {
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

  bool parse_number(term& out) {
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

  bool make_integer(std::string_view digits, bool negative, unsigned radix, std::size_t start,
                    term& out) {
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

  bool make_float(std::string_view literal, std::size_t start, term& out) {
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

  bool parse_hash(term& out) {
    if (consume("#PID<")) {
      return parse_pid(out);
    }
    if (consume("#Reference<") || consume("#Ref<")) {
      return parse_reference(out);
    }
    return fail_expected("'#PID<' or '#Reference<'");
  }

  bool parse_u32(std::uint32_t& value) {
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

  /// Parses `n.n.n>` (as many fields as `fields` holds), after the opening `<`.
  template <std::size_t N>
  bool parse_dotted(std::array<std::uint32_t, N>& fields) {
    for (std::size_t i = 0; i < N; ++i) {
      if ((i > 0 && !expect('.', "'.'")) || !parse_u32(fields[i])) {
        return false;
      }
    }
    return expect('>', "'>'");
  }

  bool parse_pid(term& out) {
    std::array<std::uint32_t, 3> f{};
    if (!parse_dotted(f)) {
      return false;
    }
    out = term(pid{f[0], f[1], f[2]});
    return true;
  }

  bool parse_reference(term& out) {
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

  /// With `pos_` on an opening bracket, parses `item`s separated by commas up to `close`.
  /// The container began at `open`.
  template <class ParseItem>
  bool parse_sequence(std::size_t open, char close, std::string_view expected, ParseItem item) {
    if (depth_ >= max_depth_) {
      return fail_at(open, "nesting deeper than " + std::to_string(max_depth_));
    }
    ++depth_;
    ++pos_;
    skip_space();
    if (!consume(close)) {
      do {
        skip_space();
        if (!item()) {
          return false;
        }
        skip_space();
      } while (consume(','));
      if (!expect(close, expected)) {
        return false;
      }
    }
    --depth_;
    return true;
  }

  bool parse_tuple(term& out) {
    std::vector<term> elements;
    auto item = [&] { return parse_value(elements.emplace_back(), nullptr); };
    if (!parse_sequence(pos_, '}', "'}' or ','", item)) {
      return false;
    }
    out = term::tuple(elements);
    return true;
  }

  /// A list item, where `name: value` stands for `{:name, value}` as in Elixir.
  bool parse_list_item(term& out) {
    bool keyword = false;
    if (!parse_value(out, &keyword)) {
      return false;
    }
    if (!keyword) {
      return true;
    }
    skip_space();
    term value;
    if (!parse_value(value, nullptr)) {
      return false;
    }
    out = term::tuple({out, value});
    return true;
  }

  bool parse_list(term& out) {
    std::vector<term> elements;
    auto item = [&] { return parse_list_item(elements.emplace_back()); };
    if (!parse_sequence(pos_, ']', "']' or ','", item)) {
      return false;
    }
    out = term::list(elements);
    return true;
  }

  bool parse_entry(term& key, term& value) {
    bool keyword = false;
    if (!parse_value(key, &keyword)) {
      return false;
    }
    skip_space();
    if (!keyword && !consume("=>")) {
      return fail_expected("'=>'");
    }
    skip_space();
    return parse_value(value, nullptr);
  }

  bool parse_map(term& out) {
    std::size_t open = pos_++;
    if (!next_is('{')) {
      return fail_expected("'{'");
    }
    std::vector<std::pair<term, term>> entries;
    auto item = [&] {
      auto& [key, value] = entries.emplace_back();
      return parse_entry(key, value);
    };
    if (!parse_sequence(open, '}', "'}' or ','", item)) {
      return false;
    }
    out = term::map(entries);
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::uint32_t depth_ = 0;
  std::uint32_t max_depth_;
  std::size_t error_pos_ = 0;
  std::string error_;
};

} // namespace

result<term, parse_error> parse_term(std::string_view text, parse_limits limits) {
  return parser(text, limits).run();
}

} // namespace vigil
