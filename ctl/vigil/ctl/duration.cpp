// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/duration.hpp"

#include <array>
#include <cstdint>

namespace vigil::ctl {
namespace {

struct unit {
  std::string_view suffix;
  std::int64_t ms;
};

// Largest first; "ms" is tried before "m" (see match_unit).
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
  if (text.starts_with("ms")) {
    return 4;
  }
  for (std::size_t i = 0; i < 4; ++i) {
    if (text.starts_with(units[i].suffix)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Reads the digits at the front of `text` into `count`; returns how many there were, or 0
// when there were none or the number passed `max_ms`.
std::size_t read_count(std::string_view text, std::int64_t& count) {
  count = 0;
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    count = count * 10 + (text[digits] - '0');
    if (count > max_ms) {
      return 0;
    }
    ++digits;
  }
  return digits;
}

} // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::int64_t total = 0;
  int last_unit = -1;
  bool first = true;
  while (first || !text.empty()) {
    std::int64_t count = 0;
    std::size_t digits = read_count(text, count);
    if (digits == 0) {
      return std::nullopt;
    }
    text.remove_prefix(digits);
    if (first && text.empty()) {
      return std::chrono::milliseconds{count}; // bare digits: milliseconds
    }
    first = false;
    int u = match_unit(text);
    if (u <= last_unit) {
      return std::nullopt; // no unit, or units out of order or repeated
    }
    const unit& chosen = units[static_cast<std::size_t>(u)];
    if (count > (max_ms - total) / chosen.ms) {
      return std::nullopt;
    }
    total += count * chosen.ms;
    text.remove_prefix(chosen.suffix.size());
    last_unit = u;
  }
  return std::chrono::milliseconds{total};
}

} // namespace vigil::ctl
