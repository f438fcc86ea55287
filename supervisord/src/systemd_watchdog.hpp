// SPDX-License-Identifier: Apache-2.0
#pragma once

// systemd's watchdog (WatchdogSec=): vigild sends WATCHDOG=1 at half of WATCHDOG_USEC, from
// its event loop, and only when its schedulers have just run a probe process. A hung loop
// sends nothing, and neither does a loop whose schedulers are all stuck, so systemd kills
// and restarts a vigild that can no longer supervise (docs/systemd.md).

#include "vigil/runtime/runtime.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace vigil::daemon {

/// The watchdog timeout systemd asks for, as sd_watchdog_enabled(3) reads it: `usec` is
/// $WATCHDOG_USEC, `pid` $WATCHDOG_PID (either may be null). Nullopt when the watchdog is
/// off: no or a malformed or zero timeout, or a WATCHDOG_PID that is not `self` (the
/// variables were inherited from a parent that systemd watches).
[[nodiscard]] std::optional<std::chrono::microseconds>
watchdog_timeout(const char* usec, const char* pid, pid_t self);

/// `watchdog_timeout` of this process's environment.
[[nodiscard]] std::optional<std::chrono::microseconds> watchdog_timeout_from_env();

/// Feeds systemd's watchdog from the event loop. The loop waits at most `wait_ms()` and
/// calls `tick()` after every wake-up; a tick that is due checks that the probe spawned by
/// the previous one has run, sends WATCHDOG=1 (with a fresh STATUS= line) if it has, and
/// spawns the next probe. Used by the loop's thread only.
class systemd_watchdog {
public:
  /// `timeout` is WATCHDOG_USEC; ticks come every half of it.
  systemd_watchdog(runtime& rt, std::chrono::microseconds timeout);

  /// Milliseconds until the next tick is due (0 if it is), for epoll_wait.
  [[nodiscard]] int wait_ms() const;

  /// Does the tick if it is due. `status` goes out as STATUS= along with the ping when it
  /// differs from the last one sent.
  void tick(const std::string& status);

  /// Pings sent so far, and ticks that withheld the ping because the probe had not run.
  [[nodiscard]] std::uint64_t pings() const noexcept { return pings_; }

  [[nodiscard]] std::uint64_t withheld() const noexcept { return withheld_; }

  /// True when the last probe spawned has run: the next due tick will ping.
  [[nodiscard]] bool probe_answered() const noexcept {
    return answered_->load(std::memory_order_acquire) == sent_;
  }

private:
  using clock = std::chrono::steady_clock;

  void spawn_probe();

  runtime& rt_;
  clock::duration interval_;
  clock::time_point next_;
  clock::time_point last_ping_;
  /// The last probe spawned and the last that ran; equal when the runtime kept up.
  std::uint64_t sent_ = 0;
  std::shared_ptr<std::atomic<std::uint64_t>> answered_;
  std::uint64_t pings_ = 0;
  std::uint64_t withheld_ = 0;
  std::string last_status_;
  clock::time_point started_;
};

/// The hidden test switch of the watchdog tests (tests/system/): with
/// VIGIL_TEST_HANG=loop or VIGIL_TEST_HANG=schedulers in the environment, vigild hangs its
/// event loop, or blocks every scheduler thread, VIGIL_TEST_HANG_AFTER_MS (default 0)
/// milliseconds after it started. Called by `systemd_watchdog::tick`; does nothing when the
/// variable is unset, which is always the case outside those tests.
void simulate_hang_for_tests(runtime& rt, std::chrono::steady_clock::duration since_start);

} // namespace vigil::daemon
