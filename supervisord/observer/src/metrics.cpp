// SPDX-License-Identifier: Apache-2.0
// /metrics (metrics.hpp): one pass over the index under its lock copies what each child's
// samples need; the OS children's resources are read after, without the lock; then each
// family is written with all its samples together, as the format requires.
#include "metrics.hpp"

#include "vigil/os/service.hpp"
#include "vigil/supervision/spec_names.hpp"

#include "counters.hpp"
#include "state.hpp"
#include "tree_index.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

namespace vigil::observer {
namespace {

using supervision::child_state;
using supervision::child_type;

std::string_view state_name(child_state s) {
  switch (s) {
  case child_state::running: return "running";
  case child_state::restarting: return "restarting";
  case child_state::backoff: return "backoff";
  case child_state::stopped: return "stopped";
  case child_state::failed: return "failed";
  }
  return "unknown";
}

/// What one child's samples need, copied out of the index.
struct child_sample {
  std::string labels; ///< path="...",id="...",kind="..." (and pid for a dynamic child)
  std::string state;
  std::string type;
  std::string last_exit_reason;
  std::uint32_t restarts = 0;
  bool up = false;
  std::optional<double> uptime_s;
  std::optional<pid> port; ///< an OS child's port, for its resources
  std::optional<std::int64_t> rss_bytes;
  std::optional<double> cpu_s;
};

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// A supervisor of the tree and the intensity its spec gives it.
struct supervisor_sample {
  std::string path;
  std::uint32_t intensity = 0;
};

void collect(const daemon::tree_index::view& v, std::string_view sup_path, std::int64_t now,
             std::vector<child_sample>& out, std::vector<supervisor_sample>& sups) {
  v.children(sup_path, [&](const daemon::indexed_child& c) {
    child_sample s;
    const bool supervisor = c.type == child_type::supervisor;
    std::string_view kind = "supervisor";
    if (!supervisor) {
      kind = c.spec && !c.spec->kind.empty() ? std::string_view(c.spec->kind) : "command";
    }
    s.labels = "path=\"";
    append_label_value(s.labels, c.path);
    s.labels += "\",id=\"";
    append_label_value(s.labels, c.id);
    s.labels += "\",kind=\"";
    append_label_value(s.labels, kind);
    s.labels += '"';
    if (c.dynamic && c.process) {
      // Dynamic children share their template's path: the pid tells them apart.
      s.labels += ",pid=\"" + to_string(term(*c.process)) + '"';
    }
    s.state = state_name(c.state);
    s.type = supervision::name_of(c.type);
    if (!c.history.empty()) {
      s.last_exit_reason = c.history.back().reason;
    }
    s.restarts = c.restarts;
    s.up = c.process.has_value();
    if (c.process) {
      s.uptime_s = static_cast<double>(now - c.started_ms) / 1000.0;
      if (!supervisor && c.spec && c.spec->mode != "inprocess") {
        s.port = c.process;
      }
    }
    out.push_back(std::move(s));
    if (supervisor && c.process) {
      sups.push_back({c.path, c.spec && c.spec->supervisor ? c.spec->supervisor->intensity : 0U});
      collect(v, c.path, now, out, sups);
    }
  });
}

void append_number(std::string& out, double value) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.15g", value);
  out.append(buf, static_cast<std::size_t>(n));
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  append_number(out, value);
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void child_families(std::string& out, const std::vector<child_sample>& children) {
  family(out, "vigil_child_up", "gauge", "1 while the child runs, else 0.");
  for (const auto& c : children) {
    sample(out, "vigil_child_up", c.labels, std::uint64_t{c.up ? 1U : 0U});
  }
  family(out, "vigil_child_info", "gauge",
         "Always 1: the child's state, type and the reason of its last exit, as labels.");
  std::string labels;
  for (const auto& c : children) {
    labels = c.labels;
    labels += ",type=\"" + c.type + "\",state=\"" + c.state + "\",last_exit_reason=\"";
    append_label_value(labels, c.last_exit_reason);
    labels += '"';
    sample(out, "vigil_child_info", labels, std::uint64_t{1});
  }
  family(out, "vigil_child_restarts_total", "counter",
         "Restarts of the child (its starts but the first) since vigild started.");
  for (const auto& c : children) {
    sample(out, "vigil_child_restarts_total", c.labels, std::uint64_t{c.restarts});
  }
  family(out, "vigil_child_uptime_seconds", "gauge", "Seconds since the running child started.");
  for (const auto& c : children) {
    if (c.uptime_s) {
      sample(out, "vigil_child_uptime_seconds", c.labels, *c.uptime_s);
    }
  }
  family(out, "vigil_child_resident_memory_bytes", "gauge",
         "Resident set size of a running OS child's process.");
  for (const auto& c : children) {
    if (c.rss_bytes) {
      sample(out, "vigil_child_resident_memory_bytes", c.labels,
             static_cast<std::uint64_t>(*c.rss_bytes));
    }
  }
  family(out, "vigil_child_cpu_seconds_total", "counter",
         "User and system CPU time of a running OS child's process.");
  for (const auto& c : children) {
    if (c.cpu_s) {
      sample(out, "vigil_child_cpu_seconds_total", c.labels, *c.cpu_s);
    }
  }
}

void supervisor_families(std::string& out, const std::vector<supervisor_sample>& running,
                         const event_counters& counters) {
  // Every running supervisor, with what its reports told (none yet: nothing restarted).
  auto sups = counters.supervisors();
  for (const auto& r : running) {
    auto& s = sups[r.path];
    if (s.intensity == 0) {
      s.intensity = r.intensity;
    }
  }
  family(out, "vigil_supervisor_restarts_in_window", "gauge",
         "Restarts the supervisor counted in its intensity window at its last decision.");
  for (const auto& [path, s] : sups) {
    std::string labels = "path=\"";
    append_label_value(labels, path);
    labels += '"';
    sample(out, "vigil_supervisor_restarts_in_window", labels, std::uint64_t{s.restarts_in_window});
  }
  family(out, "vigil_supervisor_restart_intensity", "gauge",
         "The most restarts the supervisor allows in its window.");
  for (const auto& [path, s] : sups) {
    std::string labels = "path=\"";
    append_label_value(labels, path);
    labels += '"';
    sample(out, "vigil_supervisor_restart_intensity", labels, std::uint64_t{s.intensity});
  }
  family(out, "vigil_supervisor_gave_up_total", "counter",
         "Times the supervisor exceeded its restart intensity and gave up.");
  for (const auto& [path, s] : sups) {
    std::string labels = "path=\"";
    append_label_value(labels, path);
    labels += '"';
    sample(out, "vigil_supervisor_gave_up_total", labels, s.gave_up);
  }
}

} // namespace

void append_label_value(std::string& out, std::string_view text) {
  for (char ch : text) {
    switch (ch) {
    case '\\': out += "\\\\"; break;
    case '"': out += "\\\""; break;
    case '\n': out += "\\n"; break;
    default: out += ch;
    }
  }
}

std::string render_metrics(const daemon::daemon_state& st, const event_counters& counters) {
  std::vector<child_sample> children;
  children.reserve(st.index.size());
  std::vector<supervisor_sample> sups{{"root", st.config()->root.intensity}};
  const std::int64_t now = steady_ms();
  st.index.read(
      [&](const daemon::tree_index::view& v) { collect(v, "root", now, children, sups); });
  if (st.os != nullptr) {
    for (auto& c : children) {
      if (c.port) {
        if (auto info = st.os->info(*c.port)) {
          c.rss_bytes = info->rss_kb * 1024;
          c.cpu_s = static_cast<double>(info->cpu_ms) / 1000.0;
        }
      }
    }
  }
  std::string out;
  out.reserve(children.size() * 600 + 4096);
  child_families(out, children);
  supervisor_families(out, sups, counters);
  family(out, "vigil_processes", "gauge", "Processes of vigild's runtime alive now.");
  sample(out, "vigil_processes", "", std::uint64_t{st.rt.process_count()});
  family(out, "vigil_schedulers", "gauge", "Scheduler threads of vigild's runtime.");
  sample(out, "vigil_schedulers", "", std::uint64_t{st.rt.schedulers()});
  family(out, "vigil_children", "gauge", "Children the tree's index holds.");
  sample(out, "vigil_children", "", std::uint64_t{children.size()});
  family(out, "vigil_uptime_seconds", "gauge", "Seconds since vigild started.");
  sample(out, "vigil_uptime_seconds", "",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - st.started_at).count());
  return out;
}

} // namespace vigil::observer
