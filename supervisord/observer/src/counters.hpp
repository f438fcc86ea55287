// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the observer counts from the event stream for /metrics, beyond what the index keeps:
// each supervisor's restarts in its window (from its last report) and how often it gave up.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace vigil::observer {

struct supervisor_counts {
  std::uint32_t restarts_in_window = 0;
  std::uint32_t intensity = 0;
  std::int64_t period_ms = 0;
  std::uint64_t gave_up = 0;
};

/// Thread-safe: the observer's thread counts, scrapes read.
class event_counters {
public:
  /// Counts `event` (an event of the stream, parsed).
  void count(const nlohmann::json& event);
  /// By supervisor path.
  [[nodiscard]] std::map<std::string, supervisor_counts> supervisors() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, supervisor_counts> supervisors_;
};

} // namespace vigil::observer
