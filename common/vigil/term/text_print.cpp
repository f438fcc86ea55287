// SPDX-License-Identifier: Apache-2.0
// Terms printed as Elixir-style text (to_string, operator<<): atoms and strings quoted and
// escaped when they are not plain, numbers, pids, references and containers.
#include "vigil/term/text.hpp"
#include "vigil/term/text_chars.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace vigil {

namespace {

using namespace text_chars;

constexpr std::string_view hex_digits = "0123456789ABCDEF";

// Elixir's unquoted atom grammar: [a-zA-Z_][a-zA-Z0-9_@]*[?!]?
bool is_plain_atom(std::string_view name) noexcept {
  if (name.empty() || !is_ident_start(name[0])) {
    return false;
  }
  std::size_t end = name.size();
  if (name.back() == '?' || name.back() == '!') {
    --end;
  }
  for (std::size_t i = 1; i < end; ++i) {
    if (!is_ident_char(name[i])) {
      return false;
    }
  }
  return true;
}

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0U) == 0x80U;
}

// The length of the well-formed UTF-8 sequence of two or more bytes at `s[i]`, or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80; // no overlong forms
    hi = c == 0xED ? 0x9F : 0xBF; // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF; // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n || at(i + 1) < lo || at(i + 1) > hi) {
    return 0;
  }
  for (std::size_t k = 2; k < n; ++k) {
    if (!is_continuation(at(i + k))) {
      return 0;
    }
  }
  return n;
}

void append_hex_escape(unsigned char c, std::string& out) {
  out += "\\x";
  out += hex_digits[c >> 4U];
  out += hex_digits[c & 0xFU];
}

// Appends the escape for the one-byte character `c`, or returns false if it needs none.
bool append_ascii_escape(std::string_view s, std::size_t i, std::string& out) {
  switch (s[i]) {
  case '"': out += "\\\""; return true;
  case '\\': out += "\\\\"; return true;
  case '\n': out += "\\n"; return true;
  case '\t': out += "\\t"; return true;
  case '\r': out += "\\r"; return true;
  case '\x1B': out += "\\e"; return true;
  case '\0': out += "\\0"; return true;
  case '#':
    // "#{" starts an interpolation in Elixir.
    if (i + 1 < s.size() && s[i + 1] == '{') {
      out += "\\#";
      return true;
    }
    return false;
  default: break;
  }
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x20 || c == 0x7F) {
    append_hex_escape(c, out);
    return true;
  }
  return false;
}

bool is_plain_byte(char c) noexcept {
  return c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != '#';
}

void append_quoted(std::string_view s, std::string& out) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t run = i;
    while (run < s.size() && is_plain_byte(s[run])) {
      ++run;
    }
    out.append(s.substr(i, run - i));
    i = run;
    if (i == s.size()) {
      break;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (!append_ascii_escape(s, i, out)) {
        out += s[i];
      }
      ++i;
    } else if (std::size_t n = utf8_sequence(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      append_hex_escape(c, out);
      ++i;
    }
  }
  out += '"';
}

void append_atom(atom a, std::string& out) {
  if (a == atoms::true_ || a == atoms::false_ || a == atoms::nil) {
    out += a.name();
    return;
  }
  out += ':';
  std::string_view name = a.name();
  if (is_plain_atom(name)) {
    out += name;
  } else {
    append_quoted(name, out);
  }
}

template <class Int>
void append_int(Int value, std::string& out) {
  std::array<char, 24> buf{};
  char* end = std::to_chars(buf.data(), buf.data() + buf.size(), value).ptr;
  out.append(buf.data(), end);
}

// The shortest text that reads back as the same double, spelled as an Elixir float
// literal: `1.0`, `0.1`, `1.5e300`, `5.0e-324`.
void append_float(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Infinity" : "Infinity";
    return;
  }
  std::array<char, 32> buf{};
  char* end = std::to_chars(buf.data(), buf.data() + buf.size(), value).ptr;
  std::string_view text(buf.data(), static_cast<std::size_t>(end - buf.data()));
  std::size_t e = text.find('e');
  std::string_view mantissa = text.substr(0, e);
  out += mantissa;
  if (mantissa.find('.') == std::string_view::npos) {
    out += ".0";
  }
  if (e == std::string_view::npos) {
    return;
  }
  std::string_view exponent = text.substr(e + 1);
  out += 'e';
  if (exponent.front() == '-') {
    out += '-';
  }
  exponent.remove_prefix(exponent.front() == '-' || exponent.front() == '+' ? 1 : 0);
  while (exponent.size() > 1 && exponent.front() == '0') {
    exponent.remove_prefix(1);
  }
  out += exponent;
}

void append_dotted(std::initializer_list<std::uint32_t> fields, std::string& out) {
  bool first = true;
  for (std::uint32_t f : fields) {
    if (!first) {
      out += '.';
    }
    first = false;
    append_int(f, out);
  }
}

void append_elements(std::span<const term> elements, std::string& out) {
  bool first = true;
  for (const term& e : elements) {
    if (!first) {
      out += ", ";
    }
    first = false;
    print(e, out);
  }
}

void append_map(const term& t, std::string& out) {
  out += "%{";
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    const term& key = t.map_key(i);
    if (key.is_atom() && is_plain_atom(key.as_atom().name())) {
      out += key.as_atom().name();
      out += ": ";
    } else {
      print(key, out);
      out += " => ";
    }
    print(t.map_value(i), out);
  }
  out += '}';
}

} // namespace

void print(const term& t, std::string& out) {
  switch (t.kind()) {
  case term_kind::integer: append_int(t.as_integer(), out); return;
  case term_kind::floating: append_float(t.as_float(), out); return;
  case term_kind::atom: append_atom(t.as_atom(), out); return;
  case term_kind::string: append_quoted(t.as_string(), out); return;
  case term_kind::pid: {
    pid p = t.as_pid();
    out += "#PID<";
    append_dotted({p.node, p.index, p.serial}, out);
    out += '>';
    return;
  }
  case term_kind::reference: {
    reference r = t.as_reference();
    out += "#Reference<";
    append_dotted({r.node, r.a, r.b, r.c}, out);
    out += '>';
    return;
  }
  case term_kind::tuple:
    out += '{';
    append_elements(t.elements(), out);
    out += '}';
    return;
  case term_kind::list:
    out += '[';
    append_elements(t.elements(), out);
    out += ']';
    return;
  case term_kind::map: append_map(t, out); return;
  }
}

std::string to_string(const term& t) {
  std::string out;
  print(t, out);
  return out;
}

std::ostream& operator<<(std::ostream& os, const term& t) {
  return os << to_string(t);
}

} // namespace vigil
