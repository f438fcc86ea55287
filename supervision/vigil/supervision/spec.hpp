// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/supervision/spec_names.hpp"
#include "vigil/term/term.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil::supervision {

// The enums (strategy, restart_type, child_type, auto_shutdown, max_restarts_action,
// shutdown_kind) are declared with the spelling of their values in spec_names.hpp.

/// How a child is stopped: exit(child, :shutdown), wait `timeout`, then :kill.
struct shutdown_policy {
  using kind = shutdown_kind;
  kind how = kind::timeout;
  milliseconds timeout{5000};

  static shutdown_policy brutal_kill() { return {kind::brutal_kill, milliseconds{0}}; }

  static shutdown_policy after(milliseconds t) { return {kind::timeout, t}; }

  static shutdown_policy infinity() { return {kind::infinity, milliseconds{0}}; }

  friend bool operator==(const shutdown_policy&, const shutdown_policy&) = default;
};

/// Restart backoff beyond OTP: the first `immediate` restarts of a streak do not wait, the
/// n-th after them waits min(max, initial * multiplier^(n-1)) ± jitter; the streak ends once
/// the child has stayed up for `reset_after`. It works inside the intensity window: every
/// restart still counts.
struct backoff_policy {
  milliseconds initial{100};
  milliseconds max{30000};
  double multiplier = 2.0;
  double jitter = 0.1; ///< fraction of the delay, 0..1
  milliseconds reset_after{10000};
  std::uint32_t immediate = 0;
  friend bool operator==(const backoff_policy&, const backoff_policy&) = default;
};

/// Where a spec came from, for error messages: "vigil.toml:12:1".
struct source_location {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  friend bool operator==(const source_location&, const source_location&) = default;
};

/// One resource limit of an OS child (setrlimit): its soft and hard values.
struct resource_limit {
  /// No limit (RLIM_INFINITY).
  static constexpr std::uint64_t unlimited = ~std::uint64_t{0};
  std::uint64_t soft = unlimited;
  std::uint64_t hard = unlimited;
  friend bool operator==(const resource_limit&, const resource_limit&) = default;
};

/// A check of a child from outside (docs/readiness.md): `ready` says when a started child
/// counts as ready, `health` how a running one is kept alive. What `target` means depends on
/// `kind`: "host:port" for tcp, a URL for http, a regex for log.
struct probe_spec {
  probe_kind kind = probe_kind::started;
  std::string target;
  /// exec: the program and its arguments.
  std::vector<std::string> command;
  /// http: the status that counts as success.
  std::uint32_t status = 200;
  /// Between two attempts (a readiness probe retries until it succeeds or ready_timeout).
  milliseconds interval{1000};
  /// One attempt that takes longer has failed.
  milliseconds timeout{5000};
  /// health: this many failed checks in a row and the child is killed as {:unhealthy, _}.
  std::uint32_t failures = 3;
  friend bool operator==(const probe_spec&, const probe_spec&) = default;
};

/// Limits on an OS child's cgroup (docs/os-workers.md, "Limits"), each unset by default.
/// The names follow systemd's: memory is MemoryMax=, memory_high MemoryHigh=, cpus
/// CPUQuota= / 100 %, pids TasksMax=.
struct cgroup_limits {
  /// Bytes: past them the kernel's OOM killer ends a process of the child (memory.max).
  std::optional<std::uint64_t> memory;
  /// Bytes: past them the child is throttled and reclaimed hard (memory.high).
  std::optional<std::uint64_t> memory_high;
  /// CPUs' worth of time per period: 1.5 is 150 ms per 100 ms (cpu.max).
  std::optional<double> cpus;
  /// Processes and threads at once (pids.max).
  std::optional<std::uint64_t> pids;
  friend bool operator==(const cgroup_limits&, const cgroup_limits&) = default;
};

/// How an OS-process child runs (docs/os-workers.md).
struct os_process_spec {
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::string cwd;
  std::optional<std::uint32_t> umask;
  std::string user;
  std::string group;
  std::string stop_signal = "SIGTERM";
  std::map<std::string, resource_limit> rlimits;
  /// Beyond the pids it was given (docs/security.md, "Workers").
  std::vector<std::string> may_send;
  /// Exit statuses that count as :normal (systemd's SuccessExitStatus=).
  std::vector<std::int64_t> success_exit_codes;
  /// Exit statuses after which the child is not restarted, whatever its restart type
  /// (systemd's RestartPreventExitStatus=); it stops with its reason.
  std::vector<std::int64_t> no_restart_exit_codes;
  /// Limits on the child's cgroup (where vigild has cgroups and the controllers).
  cgroup_limits limits;
  friend bool operator==(const os_process_spec&, const os_process_spec&) = default;
};

struct supervisor_spec;

// Each field of the structs below is declared, named and documented in one table
// (spec_fields.hpp), which the term codec, equality, reload plans and `describe` walk; a
// field added here goes there too.

/// One child of a supervisor (semantics 21), as the config describes it. A supervisor does
/// not care what the child is: the daemon's child factory turns the spec into a process.
struct child_spec {
  std::string id;
  child_type type = child_type::worker;
  restart_type restart = restart_type::permanent;
  shutdown_policy shutdown;
  bool significant = false;
  std::optional<backoff_policy> backoff;

  /// When the child counts as started (docs/readiness.md): its supervisor starts the next
  /// child only then. The default, `started`, is OTP's: as soon as its start returned.
  probe_spec ready;
  /// Not ready in time: a failed start with the reason {:not_ready, detail}.
  milliseconds ready_timeout{90000};
  /// A liveness check; kind `started` means none.
  probe_spec health;
  /// A notify child that has not sent WATCHDOG=1 for this long is killed as unhealthy; zero
  /// means no watchdog.
  milliseconds watchdog{0};

  /// A worker: the kind's name (`echo`, a plugin's kind) and its arguments (a map term).
  std::string kind;
  term args;
  /// spec_names.hpp's modes: inprocess, process or command.
  std::string mode = "inprocess";
  os_process_spec os;

  /// A nested supervisor (type == supervisor).
  std::shared_ptr<const supervisor_spec> supervisor;

  source_location where;

  /// Equal in everything but `where` (spec_fields.hpp).
  friend bool operator==(const child_spec& a, const child_spec& b);
};

/// A supervisor's flags and children (semantics 22), in start order.
struct supervisor_spec {
  std::string name;
  strategy how = strategy::one_for_one;
  /// At most `intensity` restarts within `period`; one more and the supervisor gives up.
  /// Defaults are Elixir's (3 in 5 s), not OTP's (1 in 5 s).
  std::uint32_t intensity = 3;
  milliseconds period{5000};
  enum auto_shutdown auto_shutdown = auto_shutdown::never;
  /// simple_one_for_one: the most dynamic children at once (0 = unbounded).
  std::uint32_t max_children = 0;
  /// Past `intensity`: escalate as OTP (the default here), or hold the child as `failed`.
  /// With hold, each child has its own budget of `intensity` restarts in `period`, and a
  /// child that fails to start is held too, instead of failing the supervisor's start.
  max_restarts_action on_max_restarts = max_restarts_action::escalate;
  /// A held child is tried again after hold_retry, doubling up to hold_retry_max; a zero
  /// hold_retry never tries it again (only an operator or a reload does).
  milliseconds hold_retry{10000};
  milliseconds hold_retry_max{300000};
  /// The backoff of children that have none of their own; empty restarts them at once (OTP).
  std::optional<backoff_policy> default_backoff;
  std::vector<child_spec> children;
  source_location where;

  /// Equal flags and children; where they were written does not count (spec_fields.hpp).
  friend bool operator==(const supervisor_spec& a, const supervisor_spec& b);
};

} // namespace vigil::supervision

// Equality walks the field tables, which need the complete structs above. Header-only: the
// config library uses specs without linking vigil::supervision.
#include "vigil/supervision/spec_fields.hpp" // IWYU pragma: export
