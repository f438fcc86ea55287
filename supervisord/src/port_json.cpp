// SPDX-License-Identifier: Apache-2.0
#include "port_json.hpp"

#include "state.hpp"

namespace vigil::daemon {

/// The OS child behind `p`, when `p` is a port (docs/os-workers.md, "Info").
std::optional<os::port_info> port_info_of(const daemon_state& st, std::optional<pid> p) {
  if (st.os == nullptr || !p) {
    return std::nullopt;
  }
  return st.os->info(*p);
}

/// A port's OS child in `info`: its process, its resources and its channel. The ring's
/// counters are named ring_* apart from the runtime's own `dropped` (mailbox overflow).
void add_port_info(json& out, const os::port_info& p) {
  out["os_pid"] = p.os_pid;
  out["node"] = p.node;
  out["program"] = p.program;
  out["log_key"] = p.log_key;
  out["rss_kb"] = p.rss_kb;
  out["cpu_ms"] = p.cpu_ms;
  out["uptime_ms"] = p.uptime_ms;
  if (!out.contains("restarts")) {
    out["restarts"] = p.restarts;
  }
  out["ring_to_worker_bytes"] = p.ring_to_worker_bytes;
  out["ring_from_worker_bytes"] = p.ring_from_worker_bytes;
  out["ring_sent"] = p.sent;
  out["ring_received"] = p.received;
  out["ring_dropped"] = p.dropped;
  // Times the worker's sends waited for a daemon process far behind (docs/os-workers.md).
  out["ring_held_back"] = p.held_back;
  // Sends the worker may not make (docs/security.md, "Workers").
  out["refused"] = p.refused;
  out["attached"] = p.attached;
  // Lines its log file missed (a full disk, EIO); still in the memory tail (`logs`).
  out["log_lines_dropped"] = p.log_lines_dropped;
  // The child's cgroup and how many processes are in it: the child and all it started.
  out["cgroup"] = p.cgroup.empty() ? json(nullptr) : json(p.cgroup);
  out["cgroup_procs"] = p.cgroup.empty() ? json(nullptr) : json(p.cgroup_procs);
  // Its readiness and health checks, for a child that has any (docs/readiness.md, "Probes").
  if (p.health.checked) {
    const os::probe_report& h = p.health;
    out["health"] = json{{"summary", h.summary()},
                         {"ready", h.ready},
                         {"check", h.check},
                         {"last_result", h.last_result},
                         {"last_check_unix_ms", h.last_check_unix_ms},
                         {"consecutive_failures", h.consecutive_failures},
                         {"failures_to_kill", h.health_failures},
                         {"status_text", h.status_text},
                         {"main_pid", h.main_pid},
                         {"stopping", h.stopping},
                         {"notify_ignored", h.notify_ignored},
                         {"last_watchdog_unix_ms", h.last_watchdog_unix_ms}};
  }
  // What the cgroup counts (null where no controller counts it): docs/os-workers.md,
  // "Accounting".
  auto counted = [](std::int64_t v) { return v < 0 ? json(nullptr) : json(v); };
  out["cgroup_memory_bytes"] = counted(p.cgroup_memory_bytes);
  out["cgroup_cpu_ms"] = counted(p.cgroup_cpu_usec < 0 ? -1 : p.cgroup_cpu_usec / 1000);
  out["cgroup_pids"] = counted(p.cgroup_pids);
}

} // namespace vigil::daemon
