// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/duration.hpp"

#include "vigil/common/duration.hpp"

#include <algorithm>
#include <string>

namespace vigil::ctl {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  bool bare_digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  if (bare_digits) {
    return vigil::parse_duration(std::string(text) + "ms");
  }
  return vigil::parse_duration(text);
}

} // namespace vigil::ctl
