// SPDX-License-Identifier: Apache-2.0
#include "journal_forwarder.hpp"

#include <utility>

namespace vigil::daemon {

journal_forwarder::journal_forwarder(std::string socket_path, sink fallback, sink warn,
                                     clock::duration period)
    : socket_path_(std::move(socket_path)), fallback_(std::move(fallback)), warn_(std::move(warn)),
      period_(period) {}

void journal_forwarder::forward(const worker_line& line, clock::time_point now) {
  switch (send_to_journal(line, socket_path_.c_str())) {
  case journal_send::sent: break;
  case journal_send::full:
    ++dropped_;
    ++unreported_;
    break;
  case journal_send::absent:
    fallback_(std::string(line.worker.empty() ? line.name : line.worker) + " "
              + std::string(line.stream) + ": " + std::string(line.text));
    return;
  }
  // A burst's first drop is told at once; the next ones, and its end (the first line sent
  // after it), at most once a period: a journal that fills and drains in turn must not make
  // a line of each turn, and what is not told yet goes with the next report.
  if (now >= next_report_) {
    report(now);
  }
}

void journal_forwarder::report(clock::time_point now) {
  if (unreported_ == 0) {
    return;
  }
  warn_("the journal is full (journald is behind): dropped " + std::to_string(unreported_) + " line"
        + (unreported_ == 1 ? "" : "s") + " of workers' output for it, " + std::to_string(dropped_)
        + " in all; they are kept in the workers' logs " + "(vigilctl logs)");
  unreported_ = 0;
  next_report_ = now + period_;
}

} // namespace vigil::daemon
