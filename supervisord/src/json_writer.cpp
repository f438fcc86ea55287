// SPDX-License-Identifier: Apache-2.0
// json_writer (json_writer.hpp): JSON appended to a string, strings escaped as
// nlohmann::json's dump() escapes them (invalid UTF-8 included).
#include "json_writer.hpp"

#include "json_util.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace vigil::daemon {
namespace {

bool in(unsigned c, unsigned lo, unsigned hi) {
  return c >= lo && c <= hi;
}

/// The length of the UTF-8 sequence at `s[i]`, or 0 when it is not well formed (Unicode
/// Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0U;
  };
  const unsigned c = at(0);
  if (in(c, 0xC2, 0xDF)) {
    return in(at(1), 0x80, 0xBF) ? 2 : 0;
  }
  if (in(c, 0xE0, 0xEF)) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;
    return in(at(1), lo, hi) && in(at(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(c, 0xF0, 0xF4)) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
    return in(at(1), lo, hi) && in(at(2), 0x80, 0xBF) && in(at(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

bool plain(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c >= 0x20 && c != '"' && c != '\\';
}

void append_escaped(std::string& out, char ch) {
  switch (ch) {
  case '"': out += "\\\""; return;
  case '\\': out += "\\\\"; return;
  case '\b': out += "\\b"; return;
  case '\f': out += "\\f"; return;
  case '\n': out += "\\n"; return;
  case '\r': out += "\\r"; return;
  case '\t': out += "\\t"; return;
  default: break;
  }
  // Lower-case hex, as nlohmann::json writes the other control characters.
  constexpr std::string_view hex = "0123456789abcdef";
  const auto c = static_cast<unsigned char>(ch);
  out += "\\u00";
  out += hex[c >> 4U];
  out += hex[c & 0xFU];
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  const auto special = [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
  };
  const auto first = std::find_if(s.begin(), s.end(), special);
  // Invalid UTF-8 is rare (a name is a config key): nlohmann::json's own replacement rules
  // then keep the text the same as dump()'s.
  if (first != s.end() && !valid_utf8(s.substr(static_cast<std::size_t>(first - s.begin())))) {
    out += dump(json(std::string(s)));
    return;
  }
  out += '"';
  std::size_t run = 0; // start of the bytes not yet copied
  for (auto i = static_cast<std::size_t>(first - s.begin()); i < s.size(); ++i) {
    if (!plain(s[i])) {
      out.append(s.substr(run, i - run));
      append_escaped(out, s[i]);
      run = i + 1;
    }
  }
  out.append(s.substr(run));
  out += '"';
}

void json_writer::open(char c) {
  separate();
  out_ += c;
  need_comma_ = false;
}

void json_writer::close(char c) {
  out_ += c;
  need_comma_ = true;
}

void json_writer::key(std::string_view k) {
  separate();
  append_json_string(out_, k);
  out_ += ':';
  need_comma_ = false;
}

void json_writer::value(std::string_view s) {
  separate();
  append_json_string(out_, s);
  need_comma_ = true;
}

namespace {

template <class N>
void append_number(std::string& out, N n) {
  std::array<char, 24> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), n);
  (void)ec; // 24 bytes hold every 64-bit integer
  out.append(buf.data(), end);
}

} // namespace

void json_writer::value(std::int64_t n) {
  separate();
  append_number(out_, n);
  need_comma_ = true;
}

void json_writer::value(std::uint64_t n) {
  separate();
  append_number(out_, n);
  need_comma_ = true;
}

void json_writer::null() {
  separate();
  out_ += "null";
  need_comma_ = true;
}

} // namespace vigil::daemon
