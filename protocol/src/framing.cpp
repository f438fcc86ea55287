// SPDX-License-Identifier: Apache-2.0
#include "vigil/protocol/framing.hpp"

namespace vigil::protocol {

void line_buffer::append(std::string_view bytes) {
  if (overflow_) {
    return;
  }
  // Drop consumed lines once they are the larger part, so the buffer does not creep.
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<std::string> line_buffer::next_line() {
  if (overflow_) {
    return std::nullopt;
  }
  std::size_t newline = buffer_.find('\n', scan_);
  if (newline == std::string::npos) {
    scan_ = buffer_.size();
    overflow_ = buffered() >= max_line_;
    return std::nullopt;
  }
  if (newline - start_ + 1 > max_line_) {
    overflow_ = true;
    return std::nullopt;
  }
  std::string line = buffer_.substr(start_, newline - start_);
  start_ = newline + 1;
  scan_ = start_;
  return line;
}

} // namespace vigil::protocol
