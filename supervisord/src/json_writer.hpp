// SPDX-License-Identifier: Apache-2.0
#pragma once

// JSON text written straight into a string, for replies too large to build as a
// nlohmann::json tree first (`status` over 10,000 workers).

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::daemon {

/// Appends `s` as a JSON string, byte for byte as dump() (json_util.hpp) writes it: `"`, `\`
/// and control characters escaped, valid UTF-8 copied as it is, invalid UTF-8 replaced by
/// U+FFFD.
void append_json_string(std::string& out, std::string_view s);

/// Appends JSON values to a string, with the commas between them, compact as dump() writes.
/// The caller gives objects their keys in the order dump() would (sorted), so the text is the
/// same as dump() of the equal nlohmann::json.
class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }

  void end_object() { close('}'); }

  void begin_array() { open('['); }

  void end_array() { close(']'); }

  /// The key of the next value in an object.
  void key(std::string_view k);

  /// The same for a key known to need no escaping (letters, digits, `_`): copied as it is.
  void plain_key(std::string_view k) {
    separate();
    out_ += '"';
    out_.append(k);
    out_ += "\":";
    need_comma_ = false;
  }

  /// A value given as JSON text already.
  void raw_value(std::string_view json_text) {
    separate();
    out_.append(json_text);
    need_comma_ = true;
  }

  /// An object or array opened and partly written as JSON text already: what follows is
  /// its next key or element, with no comma before it.
  void raw_open(std::string_view json_text) {
    separate();
    out_.append(json_text);
    need_comma_ = false;
  }

  void value(std::string_view s);

  void value(const char* s) { value(std::string_view(s)); }

  void value(std::int64_t n);
  void value(std::uint64_t n);
  template <std::integral N>

  requires(!std::same_as<N, bool>) void value(N n) {
    if constexpr (std::signed_integral<N>) {
      value(static_cast<std::int64_t>(n));
    } else {
      value(static_cast<std::uint64_t>(n));
    }
  }

  void null();

private:
  void separate() {
    if (need_comma_) {
      out_ += ',';
    }
  }

  void open(char c);
  void close(char c);

  std::string& out_;
  bool need_comma_ = false;
};

} // namespace vigil::daemon
