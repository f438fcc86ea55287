// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::detail {

class scheduler;
class process;

/// Reports processes that hold a scheduler thread longer than a bound without suspending.
/// A cooperative task cannot be preempted (docs/design.md); the watchdog makes the culprit
/// visible: it is logged once and flagged in its `info`. While every scheduler thread
/// sleeps, so does the watchdog.
class watchdog {
public:
  using report_fn = std::function<void(const std::string&)>;

  watchdog(scheduler& s, std::chrono::milliseconds bound, report_fn report);
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  watchdog(watchdog&&) = delete;
  watchdog& operator=(watchdog&&) = delete;
  ~watchdog();

private:
  void loop();

  scheduler& scheduler_;
  std::chrono::milliseconds bound_;
  report_fn report_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<process*> seen_before_; ///< still running at the previous check
  std::thread thread_;
};

} // namespace vigil::detail
