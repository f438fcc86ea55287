// SPDX-License-Identifier: Apache-2.0
#pragma once

// The pure rules of restarting, each testable as a table: which exits restart a child
// (semantics 21), the restart budget (semantics 23, OTP's add_restart/3) and the backoff
// delay. None of them reads a clock: the caller passes the time in.

#include "vigil/common/result.hpp"
#include "vigil/supervision/spec.hpp"
#include "vigil/term/term.hpp"

#include <chrono>
#include <cstdint>
#include <deque>

namespace vigil::supervision {

/// Supervision time: monotonic, passed in by the caller (a fake clock in tests).
using time_point = std::chrono::steady_clock::time_point;

/// How a child ended, as far as restarting is concerned.
enum class exit_kind : std::uint8_t {
  normal,   ///< reason :normal
  shutdown, ///< reason :shutdown or {:shutdown, _}
  abnormal, ///< anything else, :killed included
};

/// Classifies an exit reason.
[[nodiscard]] exit_kind classify(const term& reason) noexcept;

/// OTP's do_restart/3 as a table: permanent children always restart, transient ones only
/// after an abnormal exit, temporary ones never.
[[nodiscard]] constexpr bool should_restart(restart_type type, exit_kind kind) noexcept {
  return type == restart_type::permanent
         || (type == restart_type::transient && kind == exit_kind::abnormal);
}

/// A sliding window of restart times: at most `intensity` restarts within any `period`.
/// A restart at `t` stays in the window while `now - t < period`, as in OTP.
class restart_intensity {
public:
  restart_intensity(std::uint32_t intensity, milliseconds period) noexcept
      : intensity_(intensity), period_(period) {}

  /// Records a restart at `now` (times must not go backwards) and returns whether the
  /// window still holds at most `intensity` restarts. False means: give up and escalate.
  [[nodiscard]] bool record(time_point now);

  /// New limits (a reload changed the supervisor's flags); the restarts already recorded
  /// count against them.
  void set_limits(std::uint32_t intensity, milliseconds period) noexcept {
    intensity_ = intensity;
    period_ = period;
  }

  /// Restarts in the window as of the last `record`.
  [[nodiscard]] std::size_t size() const noexcept { return stamps_.size(); }

private:
  std::uint32_t intensity_;
  milliseconds period_;
  std::deque<time_point> stamps_;
};

/// The wait before the `n`-th consecutive restart (n >= 1):
/// min(max, initial * multiplier^(n-1)), scaled by 1 + jitter * (2 * unit - 1), where
/// `unit` is a uniform sample from [0, 1). Never negative.
[[nodiscard]] milliseconds backoff_delay(const backoff_policy& policy, std::uint32_t n,
                                         double unit) noexcept;

/// Checks what the config cannot express in types: unique, non-empty ids; significant
/// children that are not permanent; at most one template for simple_one_for_one; nested
/// supervisors present and valid; sane periods and backoff. The error (errc::config_invalid)
/// names the child and where it was written.
[[nodiscard]] result<void> validate(const supervisor_spec& spec);

/// Checks one child spec on its own (used for start_child too).
[[nodiscard]] result<void> validate(const child_spec& child);

} // namespace vigil::supervision
