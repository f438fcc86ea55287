// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/unique_fd.hpp"
#include "vigil/runtime/runtime.hpp"

#include "checks.hpp"
#include "os_child.hpp"
#include "pump.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vigil::os::detail {

/// The OS reactor: one thread with an epoll set holding the pidfd, the stdout/stderr pipes
/// and the channel's wake eventfd of every OS child. It reads every child's channel
/// (channel_pump), at most `frames_per_turn` frames of one child before serving the others,
/// round robin. When a child exits it kills the rest of its process group, reaps it
/// (waitid(P_PIDFD), so no SIGCHLD handler is needed), delivers the frames still in its
/// ring, reads the output still in the pipes, and sends the port {:"$vigil_os_exit",
/// reason, os_reason}. Output is split into lines and handed to `on_lines`.
class reactor {
public:
  using line_sink = std::function<void(const os_child& c, std::string_view stream,
                                       std::span<const std::string_view> lines)>;

  using exit_hook = std::function<void(os_child& c)>;
  using idle_hook = std::function<void()>;

  /// Starts the thread. `rt` must outlive the reactor. `on_exited` runs on the reactor
  /// thread once a child is reaped and its port told; `on_idle` after each batch of events
  /// (the service refills its spare channels there, off the restart path).
  reactor(runtime& rt, line_sink on_lines, exit_hook on_exited, idle_hook on_idle,
          bool reap_orphans);
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;
  /// Kills every child still watched (SIGKILL to its group), reaps it and joins the thread.
  ~reactor();

  /// Watches a launched child, takes the read ends of its output pipes (non-blocking) and
  /// reads its channel with `hooks`.
  void watch(std::shared_ptr<os_child> c, unique_fd out, unique_fd err, pump_hooks hooks);

  /// Children watched now (exited ones whose pipes are still open included).
  [[nodiscard]] std::size_t watched() const;

  /// The longest line kept whole; longer ones are split.
  static constexpr std::size_t max_line = 16 * 1024;

  /// The most frames read from one child's channel before the others are served.
  static constexpr std::size_t frames_per_turn = 64;

  /// The most finished children whose output pipes are still held open by what they left
  /// behind (a descendant that escaped the kill: without a cgroup, a setsid daemon). Each
  /// holds its pipes and its channel in vigild (3 descriptors); past this the oldest are
  /// closed, so a child restarting that way cannot use up vigild's descriptors (it once
  /// kept 3 for each restart, for as long as the descendant lived).
  static constexpr std::size_t max_lingering = 64;

private:
  /// What an epoll event is about: its data is an entry's id << tag_bits | one of these.
  enum : std::uint64_t {
    on_cgroup = 0,
    on_pidfd = 1,
    on_out = 2,
    on_err = 3,
    on_wake = 4,
    on_notify = 5, ///< the child's sd_notify socket
    on_probe = 6,  ///< a probe attempt's socket or pidfd
  };

  static constexpr unsigned tag_bits = 3;

  struct entry {
    std::shared_ptr<os_child> child;
    unique_fd out;
    unique_fd err;
    std::string out_buf;
    std::string err_buf;
    bool exited = false;
    pump_hooks hooks;
    std::uint64_t id = 0;
    bool finished = false; ///< the port has been told
    term os_reason;        ///< once exited
    unique_fd events;      ///< cgroup.events while the exited child's cgroup empties
    std::chrono::steady_clock::time_point empty_deadline;
    std::unique_ptr<channel_pump> pump;
    bool queued = false;                  ///< in ready_
    bool blocked = false;                 ///< in blocked_: a send waits for its target
    std::unique_ptr<child_checks> checks; ///< readiness and health (checks.hpp), if any
  };

  void run();
  void add_pending();
  void on_event(std::uint64_t data);
  /// Reads a turn of `e`'s channel; queues it in ready_ when frames are left.
  void serve_channel(entry& e);
  /// One turn for each child queued before this call.
  void serve_ready();
  void check_attach_deadlines();
  /// Serves again the blocked channels whose retry time has come.
  void retry_blocked();
  void close_wake(entry& e);
  void on_output(entry& e, bool is_err, bool drain_only);
  void on_exit(entry& e);
  /// Finishes an exited child whose cgroup has emptied (or has not in time: `give_up`).
  void check_empty(entry& e, bool give_up);
  void check_emptying();
  void finish(entry& e);
  /// `e` is finished with a pipe still open: keeps it, closing the oldest beyond
  /// max_lingering.
  void linger(entry& e);
  /// Forgets entry `id`, erased from entries_, from lingering_.
  void forget_lingering(std::uint64_t id);
  [[nodiscard]] int next_sweep_ms();
  void emit(entry& e, std::string_view stream, std::string& buf, bool flush_all);
  void close_pipe(unique_fd& fd);
  void finish_all();
  [[nodiscard]] int next_timeout_ms();
  void sweep_orphans();

  // -- readiness and health checks (reactor_checks.cpp) ----------------------------------
  /// Gives `e` its child_checks if its child has any (needs_checks).
  void start_checks(entry& e);
  /// Stops a reaped child's checks (an exec probe still running is killed).
  void stop_checks(entry& e);
  /// Counts `e`, about to be forgotten, out of checking_.
  void drop_checks(const entry& e);
  /// A notify datagram or a probe attempt's descriptor is ready (`which`: on_notify or
  /// on_probe).
  void on_check_event(entry& e, std::uint64_t which);
  /// Hands the worker's ready frame, if its channel brought one, to its readiness check.
  void forward_ready_frame(entry& e);
  /// Hands output lines to a log readiness or health check.
  void forward_lines(entry& e, std::span<const std::string_view> lines);
  /// Milliseconds until the next check is due, or nullopt when none waits.
  [[nodiscard]] std::optional<int> next_check_ms() const;
  /// Runs the checks whose time has come.
  void check_timers();

  runtime& rt_;
  line_sink on_lines_;
  exit_hook on_exited_;
  idle_hook on_idle_;
  bool reap_orphans_;
  unique_fd epoll_;
  unique_fd wake_;
  mutable std::mutex mutex_;
  std::vector<entry> pending_;
  bool stopping_ = false;
  std::size_t count_ = 0; ///< entries, pending ones included; under mutex_
  std::unordered_map<std::uint64_t, entry> entries_; ///< reactor thread only
  std::uint64_t next_id_ = 1;
  std::size_t emptying_ = 0; ///< exited children whose cgroup is not empty yet
  std::size_t checking_ = 0; ///< entries with checks
  /// When to look for orphans again: a grandchild killed with its group may still be dying
  /// when its leader is reaped, and without a daemon no SIGCHLD handler calls reap_orphans.
  std::vector<std::chrono::steady_clock::time_point> sweeps_;
  /// Children whose channel has frames left after their turn, oldest first.
  std::deque<std::uint64_t> ready_;
  /// Finished children with a pipe still open, oldest first (at most max_lingering).
  std::deque<std::uint64_t> lingering_;
  /// Vigil-workers not attached yet: by when they must (ids, any order).
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> attach_deadlines_;
  /// Channels holding a send for a daemon process far behind (ids, any order): served again
  /// at their pump's retry_at, not when their child signals.
  std::vector<std::uint64_t> blocked_;
  std::thread thread_;
};

} // namespace vigil::os::detail
