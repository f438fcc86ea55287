// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/os/cgroup.hpp"
#include "vigil/os/launch.hpp"
#include "vigil/os/log_store.hpp"
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/spec.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

/// OS-process workers: children of a supervisor that are real OS processes, each one
/// represented in the runtime by a *port* process. docs/os-workers.md tells the whole story;
/// in short:
///
/// - `start` launches the child (a `command`, or `vigil-worker` for `mode = "process"`) in a
///   new session with PR_SET_PDEATHSIG and only the descriptors it should have, then spawns
///   the port linked to the supervisor. Exec failures come back as errors at once.
/// - The port turns the child's end into its exit reason (`:normal`, `{:exit_status, N}`,
///   `{:signal, :SIGSEGV}`, or the reason a vigil-worker reported). Killing the port stops
///   the child: the stop signal to its group, `shutdown` to go, then SIGKILL to the group.
/// - Messages sent to the port go to the worker through its shared-memory channel; what the
///   worker sends comes back out. Each incarnation has a node number: pids of its processes
///   travel as #PID<node.index.serial> and `route` delivers to them.
/// - An OS reactor thread reaps the children (pidfds, no SIGCHLD) and reads their stdout and
///   stderr into per-worker rotating logs and an in-memory ring (`logs`).
namespace vigil::os {

/// One line of output, as the daemon's `log` events want it.
struct output_line {
  pid port;
  std::string key;
  std::string_view stream; ///< "stdout" or "stderr"
  std::string_view line;   ///< raw bytes, without the newline
};

class remote_router;

struct service_options {
  /// Log files and memory; an empty `logs.dir` means `default_log_dir()`.
  log_options logs;
  /// The vigil-worker executable; empty means `default_worker_program()`.
  std::string worker_program;
  /// Plugins every vigil-worker loads (the daemon's `plugins`, in order).
  std::vector<std::string> plugins;
  /// As root, run only programs (commands, vigil-worker) and load only plugins that no one
  /// but root can change (vigil/common/file_trust.hpp); false is vigild's --insecure-paths.
  bool strict_modes = true;
  /// Data bytes of each ring of a worker's channel.
  std::size_t ring_capacity = 64 * 1024;
  /// How long a vigil-worker may take to attach to its channel before it is killed.
  std::chrono::milliseconds attach_timeout{30000};
  /// Resource limits for every OS child; a child's own `os.rlimits` replaces the one for the
  /// same resource.
  std::vector<rlimit_setting> rlimits;
  /// The log key of a child: by default its id. A daemon that knows the child's path
  /// (root/web) can return that, so that two `web`s under different supervisors differ.
  std::function<std::string(pid supervisor, const supervision::child_spec& spec)> log_key;
  /// Called on the reactor thread for each line of output (after it is logged). Must not
  /// block.
  std::function<void(const output_line& line)> on_line;
  /// When set, the service binds itself to this router for its whole life, so that the
  /// runtime's `remote_send` hook (`remote_router::hook`) reaches the workers' processes.
  std::shared_ptr<remote_router> router;
  /// The daemon's own processes: true for a pid that no OS worker may send to, whatever it
  /// was given (capabilities.hpp). Called on the OS reactor thread, once per send to a daemon pid
  /// or granted name: it must be thread-safe and cheap. Empty: none is protected.
  std::function<bool(pid)> is_protected;
  /// Reap orphans (reaper.hpp) each time an OS child exits. A daemon that is a subreaper
  /// wants this; one whose own code reaps other children by pid can turn it off.
  bool reap_orphans = true;
  /// Where each OS child gets a cgroup of its own (cgroup.hpp); null: process groups only.
  std::shared_ptr<cgroup_tree> cgroups;
  /// Where the sd_notify sockets of children with `ready = "notify"` or a watchdog go (one
  /// per child, NOTIFY_SOCKET). Empty: a private directory (mkdtemp, mode 0711: no one else
  /// can list it or add to it) made at first use under $RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR,
  /// /run as root, else $TMPDIR or /tmp, and removed with the service.
  std::filesystem::path notify_dir;
  /// Problems worth a line in the daemon's log that do not stop a child (its cgroup could
  /// not be made, clone3 refused). Called on the starting thread.
  std::function<void(const std::string&)> on_warning;
};

/// What the checks of an OS child found (docs/os-workers.md, "Readiness and health checks").
struct probe_report {
  /// Its readiness was reported to its supervisor (never, for `ready = "started"`).
  bool ready = false;
  /// The check run last: "http http://127.0.0.1:8080/healthz"; empty before the first.
  std::string check;
  /// "ok", or why the last check failed ("status 503", "connection refused").
  std::string last_result;
  std::int64_t last_check_unix_ms = 0; ///< when it ended; 0 before the first
  std::uint32_t consecutive_failures = 0;
  std::string status_text;       ///< the last STATUS= the child sent (sd_notify)
  std::int64_t main_pid = 0;     ///< MAINPID= (a pid of the child's cgroup or group); 0: none
  std::int64_t notify_errno = 0; ///< ERRNO=
  bool stopping = false;         ///< STOPPING=1
  /// Notify datagrams dropped: from a process that is not the child's, or malformed.
  std::uint64_t notify_ignored = 0;
  std::int64_t last_watchdog_unix_ms = 0; ///< the last WATCHDOG=1; 0: none yet

  // -- from the child's spec, for `summary` ----------------------------------------------
  /// The child has checks at all: a readiness other than `started`, a health check or a
  /// watchdog. status shows a health field only for these.
  bool checked = false;
  bool awaits_ready = false;         ///< its readiness is not `started`
  std::string ready_check;           ///< what its readiness waits for: "tcp 127.0.0.1:6379"
  std::uint32_t health_failures = 0; ///< failed checks in a row that kill it; 0: no check
  std::string health_check;          ///< its health check: "http http://127.0.0.1:8080/"

  /// One line for status: "waiting: tcp 127.0.0.1:6379: connection refused", "ready"
  /// (no health check, or none run yet), "healthy" (the last one passed), "unhealthy 2/3:
  /// http http://127.0.0.1:8080/: status 503".
  [[nodiscard]] std::string summary() const;

  /// As a map with atom keys.
  [[nodiscard]] term to_term() const;
};

/// What `info` adds for a port: its OS child's state (docs/os-workers.md, "Info").
struct port_info {
  pid port;
  pid_t os_pid = 0;
  std::uint32_t node = 0;
  std::string program;
  std::string log_key;
  std::int64_t rss_kb = 0;
  std::int64_t cpu_ms = 0;
  std::int64_t uptime_ms = 0;
  std::uint32_t restarts = 0;
  std::uint64_t ring_to_worker_bytes = 0;   ///< queued for the worker now
  std::uint64_t ring_from_worker_bytes = 0; ///< queued for the daemon now
  std::uint64_t sent = 0;                   ///< terms written to the worker
  std::uint64_t received = 0;               ///< terms read from the worker
  std::uint64_t dropped = 0;                ///< terms for the worker dropped (ring full)
  /// Times the worker's sends were held back: the daemon process they went to had 10,000
  /// messages waiting (docs/os-workers.md, "Backpressure").
  std::uint64_t held_back = 0;
  /// Sends from the worker dropped because it may not make them (capabilities.hpp).
  std::uint64_t refused = 0;
  bool attached = false; ///< the worker speaks the channel
  /// Lines of the child's output its log file missed (disk full, EIO; docs/os-workers.md,
  /// "Logs"), counted across the child's restarts; they are still in the memory tail.
  std::uint64_t log_lines_dropped = 0;
  /// The child's cgroup (docs/os-workers.md, "cgroups"), empty without one, and the processes
  /// in it now (the child and all it started; -1 without one).
  std::string cgroup;
  std::int64_t cgroup_procs = -1;
  /// Readiness and health checks.
  probe_report health;
  /// What the cgroup counts (docs/os-workers.md, "Accounting"), read when asked; -1 where
  /// nothing counts it: memory.current (v1 memory.usage_in_bytes), cpu.stat usage_usec and
  /// pids.current.
  std::int64_t cgroup_memory_bytes = -1;
  std::int64_t cgroup_cpu_usec = -1;
  std::int64_t cgroup_pids = -1;

  /// As a map with atom keys: %{os_pid: 4711, rss_kb: 1234, ...}.
  [[nodiscard]] term to_term() const;
};

/// $STATE_DIRECTORY/logs if set, else /var/lib/vigil/logs as root, else
/// $XDG_STATE_HOME/vigil/logs (~/.local/state/vigil/logs).
[[nodiscard]] std::filesystem::path default_log_dir();

/// $VIGIL_WORKER_PROGRAM if set, else `vigil-worker` beside the running executable if it
/// exists there, else (for a program run from its build tree) the tree's vigil-worker, else
/// "vigil-worker" (looked up in PATH).
[[nodiscard]] std::string default_worker_program();

namespace detail {
class service_core;
}

/// The OS-worker service of one runtime. Thread-safe.
///
/// Lifetime: create it after the runtime and destroy it before the runtime, or after
/// `runtime::shutdown()`; destroying it kills every OS child still running (SIGKILL to its
/// group) and reaps it.
class service {
public:
  explicit service(runtime& rt, service_options options = {});
  service(const service&) = delete;
  service& operator=(const service&) = delete;
  ~service();

  /// Starts `spec` (mode "process" or "command") for `supervisor`: launches the OS child and
  /// spawns its port linked to the supervisor. Returns the port's pid. Errors say why, for
  /// the supervisor's "failed to start child" message: an exec failure with its errno
  /// ("exec /usr/bin/nope: No such file or directory (ENOENT)"), an unknown user, a bad
  /// stop signal, or a system error.
  [[nodiscard]] result<pid> start(context& supervisor, const supervision::child_spec& spec);

  /// Delivers `message` to `to` from outside a worker: node 0 pids through the runtime, pids
  /// of an OS worker's node through its port and channel. A pid of a node that no longer
  /// exists is dropped, as a send to a dead pid is.
  void route(pid to, term message);

  /// The port of the OS worker whose node is `node`, if it still runs.
  [[nodiscard]] std::optional<pid> port_of_node(std::uint32_t node) const;

  /// Info for a port pid; nullopt when `port` is not a live port.
  [[nodiscard]] std::optional<port_info> info(pid port) const;

  /// The OS pid of the child behind `port`, known from the moment `start` returns and
  /// remembered after it ended (as its log key is), for supervisor reports.
  [[nodiscard]] std::optional<pid_t> os_pid(pid port) const;

  /// The last `n` output lines of the child behind `port` (or of the last incarnation with
  /// the same log key), oldest first.
  [[nodiscard]] std::vector<log_entry> logs(pid port, std::size_t n) const;

  /// The last `n` output lines logged under `key`.
  [[nodiscard]] std::vector<log_entry> logs(const std::string& key, std::size_t n) const;

  /// OS children running or awaiting their reaping.
  [[nodiscard]] std::size_t live_children() const;

  [[nodiscard]] const service_options& options() const;

private:
  std::shared_ptr<detail::service_core> core_;
};

/// Lets in-process code send to the processes of OS workers (pids whose node is not 0), with
/// a plain `send`: the runtime's `runtime_options::remote_send` hook, routed through the
/// service by `service::route`. The runtime takes its options when it is made, before the
/// service that needs it exists, so the router comes first and the service binds to it
/// later (`service_options::router`):
///
///     auto router = std::make_shared<os::remote_router>();
///     runtime_options ro;
///     ro.remote_send = os::remote_router::hook(router);
///     runtime rt(std::move(ro));
///     os::service_options so;
///     so.router = router;
///     os::service svc(rt, std::move(so));   // bound until svc is destroyed
///
/// Thread-safe. A send while no service is bound is dropped, as one to a dead pid.
class remote_router {
public:
  /// The function for `runtime_options::remote_send`; it keeps the router alive.
  [[nodiscard]] static std::function<void(pid, term)> hook(std::shared_ptr<remote_router> router);

  /// Routes through `s` from now on; nullptr unbinds. Unbinding waits for the routes in
  /// progress, so the service may be destroyed once it returns.
  void bind(service* s);

  /// `service::route` of the bound service, if any.
  void route(pid to, term message) const;

private:
  mutable std::shared_mutex mutex_;
  service* service_ = nullptr;
};

} // namespace vigil::os
