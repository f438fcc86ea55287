// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/unique_fd.hpp"
#include "vigil/ipc/channel.hpp"
#include "vigil/ipc/ring.hpp"
#include "vigil/os/capabilities.hpp"
#include "vigil/os/cgroup.hpp"
#include "vigil/os/launch.hpp"
#include "vigil/os/service.hpp"
#include "vigil/supervision/spec.hpp"
#include "vigil/term/term.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace vigil::os::detail {

class service_core;

/// One incarnation of an OS child, shared by its port process and the reactor (which reaps
/// it, reads its output and, through its channel_pump, what it sends).
///
/// The group may be signalled only while the leader is unreaped: until then its pid (and so
/// the group id) cannot be reused. `mutex` orders signals against the reaping.
struct os_child {
  // -- set before the child is shared, read-only afterwards ------------------------------
  pid_t os_pid = 0;
  unique_fd pidfd;
  std::uint32_t node = 0;
  std::string key;     ///< log key
  std::string program; ///< what runs, for info
  /// Lines of `key` its log file missed (log_store::lines_dropped), for info.
  std::shared_ptr<const std::atomic<std::uint64_t>> log_lines_dropped;
  vigil::pid port;
  std::chrono::steady_clock::time_point started;
  std::uint32_t restarts = 0;
  bool sdk_atoms = false; ///< whether frames from the child may create atoms
  /// The new atoms frames from the child may still create, shared by every incarnation of
  /// the same child id: a worker that restarts does not get a fresh budget.
  std::shared_ptr<atom_budget> new_atoms;
  /// The child's own cgroup (cgroup.hpp), when vigild has a cgroup tree: its path and
  /// directory. Removed by the reactor once it is empty.
  std::string cgroup_path;
  unique_fd cgroup_dir;
  /// Its directories in v1 hierarchies (a hybrid host's memory, pids, cpu), removed with it.
  cgroup_v1_dirs cgroup_v1;

  // -- checks from outside (checks.hpp): set before the child is shared ------------------
  vigil::pid supervisor; ///< who hears {:"$vigil_ready", port, text} (through the port)
  supervision::probe_spec ready;
  supervision::probe_spec health;
  std::chrono::milliseconds watchdog{0};
  /// The datagram socket behind the child's NOTIFY_SOCKET (notify.hpp), and its path.
  unique_fd notify_fd;
  std::string notify_path;
  /// How an exec probe runs (the child's user, environment, directory and cgroup); empty
  /// unless the child has an exec probe.
  launch_spec probe_launch;
  /// What status and info show of the checks (probe_report); under its own mutex, since
  /// the reactor writes it and info requests read it from scheduler threads.
  mutable std::mutex health_mutex;
  probe_report health_report;

  // -- the channel: memory shared by port (writer) and pump (reader) ---------------------
  ipc::channel channel;   ///< the pump's (on the reactor thread) after the launch
  ipc::ring_view to_view; ///< checked before the child could touch it
  ipc::ring_view from_view;
  ipc::channel_header* handshake = nullptr;
  ipc::ring_header* to_worker = nullptr;
  ipc::ring_header* from_worker = nullptr;
  /// The eventfd the child's writer signals (VIGIL_WAKE_FD); the reactor's epoll watches it
  /// so that one thread reads every child's channel.
  unique_fd wake;
  std::atomic<bool> attached{false};
  std::atomic<std::uint64_t> received{0}; ///< frames from the child
  std::atomic<std::uint64_t> sent{0};     ///< frames to the child
  std::atomic<std::uint64_t> dropped{0};  ///< terms for the child dropped (ring and backlog full)
  /// Times its reading stopped on a send to a daemon process far behind (pump_hooks::max_waiting).
  std::atomic<std::uint64_t> held_back{0};
  /// The port holds terms back and asked the worker's reader to say when it frees room: an
  /// SDK reader signals `wake` then (ring_reader's wake_fd), and the reactor passes it on to
  /// the port as {:"$vigil_room"} (room_tag). Set by the port, taken by the reactor.
  std::atomic<bool> room_wanted{false};
  /// What the child may send to: its node and `may_send` are set before it is shared; the
  /// port grants the pids it passes on, the pump checks (capabilities.hpp).
  worker_grants grants;

  // -- written by the pump, read by the reactor (the same thread) ---------------------------
  std::optional<term> exit_frame; ///< {:exit, reason} sent by the child
  /// The status text of the child's {:ready, text}, until the reactor hands it to the
  /// checks; only the first {:ready, _} of an incarnation counts.
  std::optional<std::string> ready_frame;
  bool ready_frame_seen = false;

  // -- the group and its reaping -----------------------------------------------------------
  std::mutex mutex;
  bool reaped = false;
  std::optional<std::string> channel_error; ///< why the channel broke; under the mutex
  std::optional<std::string> unhealthy;     ///< why a check killed it; under the mutex

  /// kill(-pgid, sig) while the leader is unreaped; false once reaped. SIGKILL also kills
  /// everything in the child's cgroup (cgroup.kill), whatever left the group.
  bool signal_group(int sig);

  /// Records why the channel broke (the first reason wins) and kills the group: a child
  /// that corrupts its channel is stopped, with {:channel_error, why} as the reason.
  void fail_channel(std::string why);

  /// Records why a check failed (the first reason wins) and kills the group: the port ends
  /// with {:unhealthy, why}.
  void fail_health(std::string why);

  /// The check failure, if any (under the mutex).
  [[nodiscard]] std::optional<std::string> health_failure();

  /// The channel error, if any (under the mutex).
  [[nodiscard]] std::optional<std::string> channel_failure();

  /// Bytes queued in each ring now (head - tail), for info.
  [[nodiscard]] std::uint64_t depth(const ipc::ring_header* h) const;
};

/// The exit message the reactor sends a port: {:"$vigil_os_exit", reason, os_reason}.
[[nodiscard]] atom os_exit_tag();

/// What the reactor sends a port whose worker freed room in its ring: {:"$vigil_room"}.
[[nodiscard]] atom room_tag();

} // namespace vigil::os::detail
