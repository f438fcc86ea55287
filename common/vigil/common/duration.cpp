// SPDX-License-Identifier: Apache-2.0
#include "vigil/common/duration.hpp"

#include <array>
#include <cstdint>

namespace vigil {
namespace {

struct unit {
  std::string_view suffix;
  std::int64_t ms;
};

// Largest first: parse_duration requires this order, format_duration relies on it. "ms" sits
// after "m" in this list but is matched before it (see match_unit).
constexpr std::array<unit, 5> units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr std::int64_t max_ms = std::int64_t{1} << 53;

// The index in `units` of the unit `text` starts with, or -1.
int match_unit(std::string_view text) {
  if (text.substr(0, 2) == "ms") {
    return 4;
  }
  for (int i = 0; i < 4; ++i) {
    if (text.substr(0, 1) == units[static_cast<std::size_t>(i)].suffix) {
      return i;
    }
  }
  return -1;
}

} // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::int64_t total = 0;
  int last_unit = -1;
  while (!text.empty()) {
    std::int64_t count = 0;
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      count = count * 10 + (text[digits] - '0');
      if (count > max_ms) {
        return std::nullopt;
      }
      ++digits;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    text.remove_prefix(digits);
    int u = match_unit(text);
    if (u <= last_unit) {
      return std::nullopt; // no unit, or units out of order or repeated
    }
    const auto& chosen = units[static_cast<std::size_t>(u)];
    if (count > (max_ms - total) / chosen.ms) {
      return std::nullopt;
    }
    total += count * chosen.ms;
    text.remove_prefix(chosen.suffix.size());
    last_unit = u;
  }
  return std::chrono::milliseconds{total};
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t left = d.count();
  if (left == 0) {
    return "0s";
  }
  std::string out;
  for (const auto& u : units) {
    if (left >= u.ms) {
      out += std::to_string(left / u.ms);
      out += u.suffix;
      left %= u.ms;
    }
  }
  return out;
}

} // namespace vigil
