// SPDX-License-Identifier: Apache-2.0
// /metrics (metrics.hpp): one pass over the index under its lock copies what each child's
// samples need; the OS children's resources are read after, without the lock; then each
// family is written with all its samples together, as the format requires. The runtime's
// families (run queues, reductions, long mailboxes) come from vigil/runtime/stats.hpp, read
// without stopping any scheduler.
#include "metrics.hpp"

#include "vigil/runtime/stats.hpp"

#include "counters.hpp"
#include "state.hpp"
#include "tree_snapshot.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <unordered_map>
#include <vector>

namespace vigil::observer {
namespace {

/// A child's labels: path, id, kind (and pid for a dynamic child, which shares its
/// template's path).
std::string labels_of(const child_row& c) {
  std::string l = "path=\"";
  append_label_value(l, c.path);
  l += "\",id=\"";
  append_label_value(l, c.id);
  l += "\",kind=\"";
  append_label_value(l, c.kind);
  l += '"';
  if (c.dynamic && c.process) {
    l += ",pid=\"" + to_string(term(*c.process)) + '"';
  }
  return l;
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

void child_families(std::string& out, const std::vector<child_row>& rows) {
  std::vector<std::string> labels_by_row;
  labels_by_row.reserve(rows.size());
  for (const auto& r : rows) {
    labels_by_row.push_back(labels_of(r));
  }

  struct view {
    const std::string& labels;
    const child_row& row;
  };

  std::vector<view> children;
  children.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    children.push_back({labels_by_row[i], rows[i]});
  }
  family(out, "vigil_child_up", "gauge", "1 while the child runs, else 0.");
  for (const auto& c : children) {
    sample(out, "vigil_child_up", c.labels, std::uint64_t{c.row.process ? 1U : 0U});
  }
  family(out, "vigil_child_info", "gauge",
         "Always 1: the child's state, type and the reason of its last exit, as labels.");
  std::string labels;
  for (const auto& c : children) {
    labels = c.labels;
    labels += ",type=\"" + c.row.type + "\",state=\"" + c.row.state + "\",last_exit_reason=\"";
    append_label_value(labels, c.row.last_exit_reason);
    labels += '"';
    sample(out, "vigil_child_info", labels, std::uint64_t{1});
  }
  family(out, "vigil_child_restarts_total", "counter",
         "Restarts of the child (its starts but the first) since vigild started.");
  for (const auto& c : children) {
    sample(out, "vigil_child_restarts_total", c.labels, std::uint64_t{c.row.restarts});
  }
  family(out, "vigil_child_uptime_seconds", "gauge", "Seconds since the running child started.");
  for (const auto& c : children) {
    if (c.row.uptime_ms) {
      sample(out, "vigil_child_uptime_seconds", c.labels,
             static_cast<double>(*c.row.uptime_ms) / 1000.0);
    }
  }
  family(out, "vigil_child_resident_memory_bytes", "gauge",
         "Resident set size of a running OS child's process.");
  for (const auto& c : children) {
    if (c.row.rss_kb) {
      sample(out, "vigil_child_resident_memory_bytes", c.labels,
             static_cast<std::uint64_t>(*c.row.rss_kb) * 1024U);
    }
  }
  family(out, "vigil_child_cpu_seconds_total", "counter",
         "User and system CPU time of a running OS child's process.");
  for (const auto& c : children) {
    if (c.row.cpu_ms) {
      sample(out, "vigil_child_cpu_seconds_total", c.labels,
             static_cast<double>(*c.row.cpu_ms) / 1000.0);
    }
  }
}

void supervisor_families(std::string& out, const std::vector<supervisor_row>& running,
                         const event_counters& counters) {
  // Every running supervisor, with what its reports told (none yet: nothing restarted).
  auto sups = counters.supervisors();
  for (const auto& r : running) {
    auto& s = sups[r.path];
    if (s.intensity == 0) {
      s.intensity = r.intensity;
    }
  }
  // One label set per supervisor, written once and shared by its three families.
  std::vector<std::pair<std::string, const supervisor_counts*>> labelled;
  labelled.reserve(sups.size());
  for (const auto& [path, s] : sups) {
    std::string labels = "path=\"";
    append_label_value(labels, path);
    labels += '"';
    labelled.emplace_back(std::move(labels), &s);
  }
  auto per_supervisor = [&](const char* name, const char* type, const char* help,
                            std::uint64_t (*value)(const supervisor_counts&)) {
    family(out, name, type, help);
    for (const auto& [labels, s] : labelled) {
      sample(out, name, labels, value(*s));
    }
  };
  per_supervisor("vigil_supervisor_restarts_in_window", "gauge",
                 "Restarts the supervisor counted in its intensity window at its last decision.",
                 [](const supervisor_counts& s) { return std::uint64_t{s.restarts_in_window}; });
  per_supervisor("vigil_supervisor_restart_intensity", "gauge",
                 "The most restarts the supervisor allows in its window.",
                 [](const supervisor_counts& s) { return std::uint64_t{s.intensity}; });
  per_supervisor("vigil_supervisor_gave_up_total", "counter",
                 "Times the supervisor exceeded its restart intensity and gave up.",
                 [](const supervisor_counts& s) { return std::uint64_t{s.gave_up}; });
}

/// At most this many vigil_process_mailbox_length series, the longest mailboxes: a runaway
/// that fills many mailboxes must not make every scrape huge.
constexpr std::size_t max_mailbox_series = 100;

struct pid_hash {
  std::size_t operator()(const pid& p) const noexcept {
    return (static_cast<std::size_t>(p.index) << 32U) ^ p.serial;
  }
};

void runtime_families(std::string& out, const daemon::daemon_state& st,
                      const std::vector<child_row>& children) {
  const runtime_stats stats = read_stats(st.rt);
  family(out, "vigil_scheduler_run_queue_length", "gauge",
         "Processes queued on each scheduler thread of vigild's runtime, waiting for a turn.");
  for (std::size_t i = 0; i < stats.schedulers.size(); ++i) {
    sample(out, "vigil_scheduler_run_queue_length", "scheduler=\"" + std::to_string(i) + '"',
           std::uint64_t{stats.schedulers[i].run_queue_length});
  }
  family(out, "vigil_shared_run_queue_length", "gauge",
         "Processes woken from outside the schedulers (timers, other threads) that no "
         "scheduler has taken yet.");
  sample(out, "vigil_shared_run_queue_length", "", std::uint64_t{stats.shared_run_queue_length});
  family(out, "vigil_reductions_total", "counter",
         "Reductions (messages taken and turns run) of all vigild's processes.");
  sample(out, "vigil_reductions_total", "", stats.reductions());

  const auto cfg = st.config();
  const std::uint32_t threshold = cfg ? cfg->observer.mailbox_threshold : 1000;
  const long_mailboxes_result mailboxes = long_mailboxes(st.rt, threshold, max_mailbox_series);
  family(out, "vigil_processes_over_mailbox_threshold", "gauge",
         "Processes whose mailbox holds at least [observer] mailbox_threshold messages.");
  sample(out, "vigil_processes_over_mailbox_threshold", "",
         std::uint64_t{mailboxes.over_threshold});
  family(out, "vigil_process_mailbox_length", "gauge",
         "Messages in the mailbox of each process over [observer] mailbox_threshold (the "
         "longest 100).");
  if (mailboxes.longest.empty()) {
    return;
  }
  std::unordered_map<pid, std::string_view, pid_hash> paths;
  for (const auto& m : mailboxes.longest) {
    paths.emplace(m.process, std::string_view{});
  }
  if (auto it = paths.find(st.root()); it != paths.end()) {
    it->second = "root";
  }
  for (const auto& c : children) {
    if (c.process) {
      if (auto it = paths.find(*c.process); it != paths.end()) {
        it->second = c.path;
      }
    }
  }
  std::string labels;
  for (const auto& m : mailboxes.longest) {
    labels = "pid=\"" + to_string(term(m.process)) + '"';
    if (m.registered_name) {
      labels += ",name=\"";
      append_label_value(labels, m.registered_name->name());
      labels += '"';
    }
    if (const auto path = paths[m.process]; !path.empty()) {
      labels += ",path=\"";
      append_label_value(labels, path);
      labels += '"';
    }
    sample(out, "vigil_process_mailbox_length", labels, std::uint64_t{m.length});
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
  const tree_snapshot tree = take_snapshot(st, false);
  const auto& children = tree.children;
  const auto& sups = tree.supervisors;
  std::string out;
  out.reserve(children.size() * 600 + 4096);
  child_families(out, children);
  supervisor_families(out, sups, counters);
  family(out, "vigil_processes", "gauge", "Processes of vigild's runtime alive now.");
  sample(out, "vigil_processes", "", std::uint64_t{st.rt.process_count()});
  family(out, "vigil_schedulers", "gauge", "Scheduler threads of vigild's runtime.");
  sample(out, "vigil_schedulers", "", std::uint64_t{st.rt.schedulers()});
  runtime_families(out, st, children);
  family(out, "vigil_children", "gauge", "Children the tree's index holds.");
  sample(out, "vigil_children", "", std::uint64_t{children.size()});
  family(out, "vigil_uptime_seconds", "gauge", "Seconds since vigild started.");
  sample(out, "vigil_uptime_seconds", "",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - st.started_at).count());
  return out;
}

} // namespace vigil::observer
