// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/table.hpp"

#include <fmt/core.h>

#include <time.h>

#include <algorithm>
#include <array>

namespace vigil::ctl {
namespace {

void append_padding(std::string& out, std::size_t count) {
  out.append(count, ' ');
}

std::vector<std::size_t> column_widths(const table& t) {
  std::vector<std::size_t> widths(t.header.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    if (row.size() > widths.size()) {
      widths.resize(row.size(), 0);
    }
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  };
  widen(t.header);
  for (const auto& row : t.rows) {
    widen(row);
  }
  return widths;
}

void append_row(std::string& out, const std::vector<std::string>& row,
                const std::vector<std::size_t>& widths, const std::vector<align>& aligns) {
  std::string line;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    std::string_view cell = i < row.size() ? std::string_view(row[i]) : std::string_view();
    std::size_t pad = widths[i] - display_width(cell);
    if (i > 0) {
      line += "  ";
    }
    bool right = i < aligns.size() && aligns[i] == align::right;
    if (right) {
      append_padding(line, pad);
    }
    line += cell;
    if (!right) {
      append_padding(line, pad);
    }
  }
  line.erase(line.find_last_not_of(' ') + 1);
  out += line;
  out += '\n';
}

} // namespace

std::size_t display_width(std::string_view text) noexcept {
  // Count every byte that is not a UTF-8 continuation byte (10xxxxxx), skipping the colour
  // sequences (ESC [ ... m) that `paint` adds, which take no column.
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      std::size_t end = text.find('m', i);
      if (end != std::string_view::npos) {
        i = end;
        continue;
      }
    }
    width += (static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U ? 1 : 0;
  }
  return width;
}

std::string paint(std::string_view text, colour c) {
  const char* code = nullptr;
  switch (c) {
  case colour::none: return std::string(text);
  case colour::green: code = "\x1b[32m"; break;
  case colour::yellow: code = "\x1b[33m"; break;
  case colour::red: code = "\x1b[31m"; break;
  }
  return code + std::string(text) + "\x1b[0m";
}

std::string format_table(const table& t) {
  std::vector<std::size_t> widths = column_widths(t);
  std::string out;
  if (!t.header.empty()) {
    append_row(out, t.header, widths, t.aligns);
  }
  for (const auto& row : t.rows) {
    append_row(out, row, widths, t.aligns);
  }
  return out;
}

std::string format_uptime(std::chrono::milliseconds uptime) {
  struct unit {
    const char* suffix;
    std::int64_t seconds;
  };

  static constexpr std::array<unit, 4> units{{{"d", 86'400}, {"h", 3'600}, {"m", 60}, {"s", 1}}};
  std::int64_t left = std::max<std::int64_t>(uptime.count(), 0) / 1000;
  for (std::size_t i = 0; i + 1 < units.size(); ++i) {
    if (left >= units[i].seconds) {
      std::int64_t big = left / units[i].seconds;
      std::int64_t small = (left % units[i].seconds) / units[i + 1].seconds;
      return fmt::format("{}{}{:02}{}", big, units[i].suffix, small, units[i + 1].suffix);
    }
  }
  return fmt::format("{}s", left);
}

std::string format_timestamp(std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  time_t when = static_cast<time_t>(seconds);

  struct tm local {};

  if (::localtime_r(&when, &local) == nullptr) {
    return fmt::format("{}", unix_ms);
  }
  std::array<char, 32> text{};
  std::size_t n = std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S", &local);
  return fmt::format("{}.{:03}", std::string_view(text.data(), n), millis);
}

} // namespace vigil::ctl
