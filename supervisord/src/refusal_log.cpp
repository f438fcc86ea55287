// SPDX-License-Identifier: Apache-2.0
#include "refusal_log.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace vigil::daemon {

refusal_log::refusal_log(sink out, clock::duration period, std::string what)
    : out_(std::move(out)), period_(period), what_(std::move(what)) {}

void refusal_log::refused(const std::string& line, const std::string& who, const std::string& why,
                          clock::time_point now) {
  (void)tick(now);
  if (!open_) {
    out_(line);
    open_ = true;
    period_end_ = now + period_;
    return;
  }
  ++total_;
  std::string key = who + " (" + why + ")";
  if (counts_.size() < 4 * max_named || counts_.contains(key)) {
    ++counts_[key];
  } else {
    ++unnamed_; // the map stays small whatever the clients
  }
}

std::optional<refusal_log::clock::time_point> refusal_log::tick(clock::time_point now) {
  if (!open_) {
    return std::nullopt;
  }
  if (now < period_end_) {
    return period_end_;
  }
  if (total_ == 0) {
    open_ = false; // a quiet period: the next refusal is written in full
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::size_t>> named(counts_.begin(), counts_.end());
  std::sort(named.begin(), named.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string line =
      "refused " + std::to_string(total_) + " more " + what_ + " since the last report:";
  std::size_t rest = unnamed_;
  for (std::size_t i = 0; i < named.size(); ++i) {
    if (i < max_named) {
      line += (i == 0 ? " " : ", ") + named[i].first + " x" + std::to_string(named[i].second);
    } else {
      rest += named[i].second;
    }
  }
  if (rest > 0) {
    line += ", and " + std::to_string(rest) + " others";
  }
  out_(line);
  total_ = 0;
  unnamed_ = 0;
  counts_.clear();
  period_end_ = now + period_;
  return period_end_;
}

} // namespace vigil::daemon
