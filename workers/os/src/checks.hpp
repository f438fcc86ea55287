// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/runtime/runtime.hpp"

#include "os_child.hpp"
#include "probe.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>

namespace vigil::os::detail {

/// Why `spec` cannot run (a regex that does not compile, a target that is not an address
/// and port, an http URL that is not http:// with an IP address), or nullopt.
[[nodiscard]] std::optional<std::string> probe_problem(const supervision::probe_spec& spec);

/// Whether `c` needs a child_checks: a readiness other than `started`, a health check or a
/// watchdog.
[[nodiscard]] bool needs_checks(const os_child& c);

/// The checks of one OS child from outside (docs/os-workers.md, "Readiness and health
/// checks"), run by the reactor's thread: its sd_notify socket, its readiness probe until it
/// is ready, then its health check and watchdog. When it becomes ready its port tells the
/// supervisor {:"$vigil_ready", port, text}; a failed health check (`failures` in a row) or a
/// missed watchdog kills the child's group and cgroup, and its port ends with {:unhealthy,
/// detail}. At most one probe attempt runs at a time, each bounded by its `timeout`.
class child_checks {
public:
  using clock = std::chrono::steady_clock;

  /// Adds the notify socket to `epoll_fd` under `notify_tag`; probe descriptors go there
  /// under `probe_tag`.
  child_checks(runtime& rt, os_child& c, int epoll_fd, std::uint64_t notify_tag,
               std::uint64_t probe_tag);
  child_checks(const child_checks&) = delete;
  child_checks& operator=(const child_checks&) = delete;
  ~child_checks();

  void on_notify();
  void on_probe();
  /// The child said {:ready, text} through its channel (the worker SDK's ready()): for
  /// `ready = "notify"`, as READY=1 on the notify socket; otherwise nothing.
  void on_worker_ready(const std::string& text);
  /// Lines of the child's output (the `log` readiness).
  void on_lines(std::span<const std::string_view> lines);
  /// Attempts due, attempts timed out, the watchdog.
  void on_timer(clock::time_point now);
  [[nodiscard]] std::optional<clock::time_point> next_deadline() const;
  /// The child has exited: nothing more is checked; the notify socket goes.
  void stop();

private:
  enum class phase : std::uint8_t { readying, running, stopped };

  void become_ready(const std::string& text);
  void enter_running(clock::time_point now);
  void begin_attempt(clock::time_point now);
  void arm();
  void end_attempt(const probe_outcome& o, clock::time_point now);
  void record(const std::string& check, const probe_outcome& o);
  void unhealthy(std::string detail);
  void tell(atom tag, const std::string& text);
  void ignored();
  [[nodiscard]] bool belongs(pid_t p) const;
  [[nodiscard]] const supervision::probe_spec& current() const;

  runtime& rt_;
  os_child& c_;
  int epoll_;
  std::uint64_t notify_tag_;
  std::uint64_t probe_tag_;
  phase phase_ = phase::readying;
  std::optional<std::regex> log_regex_;
  std::unique_ptr<probe_attempt> attempt_;
  int armed_fd_ = -1;
  std::uint32_t armed_events_ = 0;
  clock::time_point attempt_deadline_;
  std::optional<clock::time_point> next_attempt_;
  std::optional<clock::time_point> watchdog_deadline_;
  std::uint32_t failures_ = 0;
  std::string last_waiting_;
};

} // namespace vigil::os::detail
