// SPDX-License-Identifier: Apache-2.0
#pragma once

// The warnings about refused control clients, rate-limited: a local user who connects in a
// loop must not be able to fill vigild's log (3,000 refusals once wrote 3,001 lines in
// 0.13 s). The first refusal after a quiet period is logged at once and in full; those that
// follow within the period are counted, per uid and reason, and summed up in one line when
// it ends. A flood so writes one line a period, however fast it comes.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace vigil::daemon {

class refusal_log {
public:
  using clock = std::chrono::steady_clock;
  /// Where a line goes (vigild: spdlog's warn).
  using sink = std::function<void(const std::string& line)>;

  /// At most this many distinct (client, reason) pairs are named in one summary; the rest
  /// are counted together.
  static constexpr std::size_t max_named = 8;

  /// `what` names the refused things in a summary ("refused 5 more control connections").
  explicit refusal_log(sink out, clock::duration period = std::chrono::seconds(1),
                       std::string what = "control connections");

  /// A client was refused. `line` is the full warning, written when the log is quiet; `who`
  /// and `why` ("uid 65534", "not allowed") name it in a summary otherwise.
  void refused(const std::string& line, const std::string& who, const std::string& why,
               clock::time_point now);

  /// Writes the summary of a period that has ended. Returns when to call again, or nullopt
  /// when nothing is pending.
  std::optional<clock::time_point> tick(clock::time_point now);

private:
  sink out_;
  clock::duration period_;
  std::string what_;
  bool open_ = false; ///< a period is running: refusals are counted, not written
  clock::time_point period_end_{};
  std::size_t total_ = 0;
  std::map<std::string, std::size_t> counts_; ///< "uid 65534 (not allowed)" -> refusals
  std::size_t unnamed_ = 0;                   ///< refusals of pairs beyond the map's bound
};

} // namespace vigil::daemon
