// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol {

/// The longest request line the control socket accepts, newline included (docs/protocol.md).
inline constexpr std::size_t max_request_line = 65'536;

/// Splits the bytes of a stream socket into lines ending in '\n'.
///
/// Lines come out in order, without their '\n'. Once a line turns out to be longer than
/// `max_line` bytes (newline included), or that many bytes have arrived without a newline,
/// the buffer is `overflowed()`: the lines before that point still come out, the rest never
/// does, since the reader cannot tell where the next line would start. Memory stays bounded
/// by `max_line` plus the last `append`.
class line_buffer {
public:
  explicit line_buffer(std::size_t max_line = max_request_line) noexcept : max_line_(max_line) {}

  /// Adds bytes read from the socket. Ignored once overflowed.
  void append(std::string_view bytes);

  /// The next complete line, or nullopt when none is complete (or after an overflow).
  [[nodiscard]] std::optional<std::string> next_line();

  /// True once the stream held a line over the limit; `next_line` returns nothing more.
  [[nodiscard]] bool overflowed() const noexcept { return overflow_; }

  /// Bytes held that are not yet part of a returned line.
  [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size() - start_; }

private:
  std::size_t max_line_;
  std::string buffer_;
  std::size_t start_ = 0; ///< where the next line begins
  std::size_t scan_ = 0;  ///< where to look for the next '\n'
  bool overflow_ = false;
};

} // namespace vigil::protocol
