// SPDX-License-Identifier: Apache-2.0
#pragma once

// Workers' lines to the journal from the OS reactor's thread, which serves every OS child and
// so must never wait on journald. A line journald has no room for (its socket full: it is
// behind) is dropped for the journal, not written to vigild's own log instead: that log goes
// to the same overloaded journald, and a blocking write there stalled every child's I/O,
// readiness and health checks behind one chatty child. The line is not lost: it is in the
// child's log file and `vigilctl logs`. The drops are counted and told in vigild's log,
// rate-limited: when a burst starts, then at most once a period with the count, and when
// the journal takes lines again; never more than once a period. Only when there is no journald at
// all does a line go to vigild's own log, as before (whose journal sink does not block either:
// line_writer.hpp).

#include "journal.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace vigil::daemon {

class journal_forwarder {
public:
  using clock = std::chrono::steady_clock;
  /// Where a line goes: `fallback` gets a worker's line when there is no journald (vigild:
  /// spdlog's info), `warn` the reports of drops (spdlog's warn).
  using sink = std::function<void(const std::string& line)>;

  journal_forwarder(std::string socket_path, sink fallback, sink warn,
                    clock::duration period = std::chrono::seconds(1));

  /// Sends one line to the journal, never waiting.
  void forward(const worker_line& line, clock::time_point now);

  /// Lines dropped for the journal since vigild started.
  [[nodiscard]] std::uint64_t dropped() const { return dropped_; }

private:
  void report(clock::time_point now);

  std::string socket_path_;
  sink fallback_;
  sink warn_;
  clock::duration period_;
  std::uint64_t dropped_ = 0;
  std::uint64_t unreported_ = 0; ///< drops not yet told
  clock::time_point next_report_{};
};

} // namespace vigil::daemon
