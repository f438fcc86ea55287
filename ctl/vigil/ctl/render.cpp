// SPDX-License-Identifier: Apache-2.0
// Replies as vigilctl prints them on a terminal: the status and plan tables, the tree,
// info, registered names, events and log lines; fields missing or mistyped print as "-".
#include "vigil/ctl/render.hpp"

#include "vigil/ctl/iex_format.hpp"
#include "vigil/ctl/table.hpp"
#include "vigil/ctl/terminal_text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace vigil::ctl {
namespace {

// Supervision trees are shallow; a deeper reply is cut off rather than recursed into.
constexpr int max_tree_depth = 64;

const json& field(const json& object, const char* key) {
  static const json missing;
  if (!object.is_object()) {
    return missing;
  }
  auto it = object.find(key);
  return it == object.end() ? missing : *it;
}

const json& array_field(const json& object, const char* key) {
  static const json empty = json::array();
  const json& value = field(object, key);
  return value.is_array() ? value : empty;
}

std::string timestamp_text(const json& ts) {
  if (ts.is_number_integer() || ts.is_number_unsigned()) {
    return format_timestamp(ts.get<std::int64_t>());
  }
  return cell_text(ts);
}

std::string uptime_text(const json& ms) {
  if (ms.is_number_integer() || ms.is_number_unsigned()) {
    return format_uptime(std::chrono::milliseconds(ms.get<std::int64_t>()));
  }
  return cell_text(ms);
}

void add_tree_rows(table& t, const json& node, const std::string& lead, const std::string& cont,
                   int depth) {
  t.rows.push_back({lead + cell_text(field(node, "id")), cell_text(field(node, "pid")),
                    cell_text(field(node, "type")), cell_text(field(node, "strategy")),
                    cell_text(field(node, "state"))});
  const json& children = array_field(node, "children");
  if (depth >= max_tree_depth && !children.empty()) {
    t.rows.push_back({cont + "..."});
    return;
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    bool last = i + 1 == children.size();
    add_tree_rows(t, children[i], cont + (last ? "└─ " : "├─ "), cont + (last ? "   " : "│  "),
                  depth + 1);
  }
}

} // namespace

std::string cell_text(const json& value) {
  if (value.is_null()) {
    return "-";
  }
  if (value.is_string()) {
    return value.get<std::string>();
  }
  return json_as_term(value);
}

namespace {

/// What a state looks like on a terminal: running is well, a failure is red, the rest is
/// waiting on something.
colour state_colour(const std::string& state) {
  if (state == "running") {
    return colour::green;
  }
  if (state == "failed" || state == "crashed" || state == "gave_up") {
    return colour::red;
  }
  return state == "-" ? colour::none : colour::yellow;
}

/// A child's health line (probe_report::summary): healthy or ready is well, unhealthy is
/// red, waiting is yellow.
colour health_colour(const std::string& health) {
  if (health == "healthy" || health == "ready") {
    return colour::green;
  }
  return health.starts_with("unhealthy") ? colour::red : colour::yellow;
}

/// A last column `header` holding `cell(w)` for every row, added only when some row has
/// `key`.
template <class Cell>
void optional_column(table& t, const json& workers, const char* key, const char* header,
                     Cell cell) {
  bool any = std::any_of(workers.begin(), workers.end(),
                         [key](const json& w) { return w.is_object() && w.contains(key); });
  if (!any) {
    return;
  }
  t.header.emplace_back(header);
  t.aligns.push_back(align::left);
  std::size_t i = 0;
  for (const json& w : workers) {
    t.rows[i++].push_back(w.is_object() && w.contains(key) ? cell(w) : std::string());
  }
}

/// Bytes as "512K", "12.3M", "1.5G"; "-" when not a number.
std::string bytes_text(const json& n) {
  if (!n.is_number()) {
    return "-";
  }
  double v = n.get<double>();
  const char* units[] = {"B", "K", "M", "G", "T"};
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  if (u == 0) {
    return fmt::format("{:.0f}B", v);
  }
  return v < 10 ? fmt::format("{:.1f}{}", v, units[u]) : fmt::format("{:.0f}{}", v, units[u]);
}

/// CPU milliseconds as "850ms", "12.3s", "4m05s".
std::string cpu_text(const json& ms) {
  if (!ms.is_number()) {
    return "-";
  }
  auto v = ms.get<std::int64_t>();
  if (v < 1000) {
    return fmt::format("{}ms", v);
  }
  if (v < 60000) {
    return fmt::format("{:.1f}s", static_cast<double>(v) / 1000);
  }
  return fmt::format("{}m{:02}s", v / 60000, (v / 1000) % 60);
}

} // namespace

std::string render_status(const json& result, bool use_colour) {
  table t;
  t.header = {"PATH", "PID", "STATE", "RESTARTS", "UPTIME", "KIND", "MODE", "OS_PID"};
  t.aligns = {align::left,  align::left, align::left, align::right,
              align::right, align::left, align::left, align::right};
  for (const json& w : array_field(result, "workers")) {
    const json& path = field(w, "path");
    std::string state = cell_text(field(w, "state"));
    if (use_colour) {
      state = paint(state, state_colour(state));
    }
    t.rows.push_back({cell_text(path.is_null() ? field(w, "id") : path), cell_text(field(w, "pid")),
                      std::move(state), cell_text(field(w, "restarts")),
                      uptime_text(field(w, "uptime_ms")), cell_text(field(w, "kind")),
                      cell_text(field(w, "mode")), cell_text(field(w, "os_pid"))});
  }
  const json& workers = array_field(result, "workers");
  // What each OS child's cgroup counts, in columns that appear when one counts something.
  bool any_counted = std::any_of(workers.begin(), workers.end(), [](const json& w) {
    return field(w, "cgroup_memory_bytes").is_number() || field(w, "cgroup_pids").is_number();
  });
  if (any_counted) {
    for (const char* h : {"MEM", "CPU", "PIDS"}) {
      t.header.emplace_back(h);
      t.aligns.push_back(align::right);
    }
    std::size_t i = 0;
    for (const json& w : workers) {
      auto& row = t.rows[i++];
      row.push_back(bytes_text(field(w, "cgroup_memory_bytes")));
      row.push_back(cpu_text(field(w, "cgroup_cpu_ms")));
      row.push_back(cell_text(field(w, "cgroup_pids")));
    }
  }
  // Children with checks say how they stand, and failed children why and when they are
  // tried again, in last columns that only appear when some row has one.
  optional_column(t, workers, "health", "HEALTH", [use_colour](const json& w) {
    std::string health = cell_text(field(w, "health"));
    return use_colour ? paint(health, health_colour(health)) : health;
  });
  optional_column(t, workers, "reason", "REASON", [](const json& w) {
    std::string why = cell_text(field(w, "reason"));
    const json& retry = field(w, "retry_ms");
    return why + (retry.is_number() ? "; retry in " + uptime_text(retry) : "; no retry");
  });
  std::string out = format_table(t);
  const json& total = field(result, "workers_total");
  if (any_counted && total.is_object()) {
    out += fmt::format(
        "total: {} OS children, memory {}, CPU {}, {} processes\n",
        cell_text(field(total, "os_children")), bytes_text(field(total, "cgroup_memory_bytes")),
        cpu_text(field(total, "cgroup_cpu_ms")), cell_text(field(total, "cgroup_pids")));
  }
  return out;
}

std::string render_tree(const json& result) {
  table t;
  const json& root = field(result, "tree");
  if (root.is_object()) {
    add_tree_rows(t, root, "", "", 0);
  }
  // Processes clients spawned outside the tree (`vigilctl spawn`).
  const json& spawned = array_field(result, "spawned");
  if (!spawned.empty()) {
    t.rows.push_back({"(spawned)"});
    for (std::size_t i = 0; i < spawned.size(); ++i) {
      const json& p = spawned[i];
      t.rows.push_back({(i + 1 == spawned.size() ? "└─ " : "├─ ") + cell_text(field(p, "kind")),
                        cell_text(field(p, "pid")), "worker", "-",
                        "uid " + cell_text(field(p, "uid"))});
    }
  }
  return format_table(t);
}

std::string render_info(const json& result) {
  table t;
  const json& info = field(result, "info");
  if (!info.is_object()) {
    return {};
  }
  for (auto it = info.begin(); it != info.end(); ++it) {
    const json& value = *it;
    if (value.is_object() && !value.empty()) {
      // A group of fields (an OS child's `health`): one row each, as health.check.
      for (auto sub = value.begin(); sub != value.end(); ++sub) {
        t.rows.push_back({it.key() + "." + sub.key(), cell_text(*sub)});
      }
      continue;
    }
    if (!value.is_array() || value.empty()) {
      t.rows.push_back({it.key(), cell_text(value)});
      continue;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      t.rows.push_back({i == 0 ? it.key() : std::string(), cell_text(value[i])});
    }
  }
  return format_table(t);
}

std::string render_plan(const json& result) {
  const json& plan = array_field(result, "plan");
  std::string out;
  if (plan.empty()) {
    out = "nothing to change\n";
  } else {
    table t;
    t.header = {"PATH", "ACTION", "REASON"};
    for (const json& step : plan) {
      t.rows.push_back({cell_text(field(step, "path")), cell_text(field(step, "action")),
                        cell_text(field(step, "reason"))});
    }
    out = format_table(t);
  }
  bool applied = field(result, "applied") == true;
  const json& warnings = array_field(result, "warnings");
  if (applied && !warnings.empty()) {
    out += "plan applied, but " + std::to_string(warnings.size()) + " step(s) failed:\n";
    for (const json& w : warnings) {
      out += "  " + cell_text(w) + "\n";
    }
    return out;
  }
  out += applied ? "plan applied\n" : "plan not applied\n";
  return out;
}

std::string render_registered(const json& result) {
  table t;
  t.header = {"NAME", "PID"};
  for (const json& entry : array_field(result, "names")) {
    t.rows.push_back({cell_text(field(entry, "name")), cell_text(field(entry, "pid"))});
  }
  return format_table(t);
}

std::string render_event(const json& event) {
  if (field(event, "event") == "log") {
    return fmt::format("{}  {:<18}  {}  [{}] {}\n", timestamp_text(field(event, "ts")), "log",
                       cell_text(field(event, "path")), cell_text(field(event, "stream")),
                       cell_text(field(event, "line")));
  }
  std::string out = fmt::format("{}  {:<18}", timestamp_text(field(event, "ts")),
                                cell_text(field(event, "event")));
  static constexpr std::array<std::string_view, 5> skipped{"v", "ts", "event", "path", "pid"};
  for (const char* key : {"path", "pid"}) {
    if (event.is_object() && event.contains(key)) {
      out += "  " + cell_text(field(event, key));
    }
  }
  if (event.is_object()) {
    for (auto it = event.begin(); it != event.end(); ++it) {
      if (std::find(skipped.begin(), skipped.end(), it.key()) == skipped.end()) {
        out += "  " + it.key() + "=" + json_as_term(*it);
      }
    }
  }
  return out + "\n";
}

std::string render_log_line(const json& line, bool escape) {
  std::string text = cell_text(field(line, "line"));
  return fmt::format("{}  {}  {}\n", timestamp_text(field(line, "ts")),
                     cell_text(field(line, "stream")),
                     escape ? escape_control_characters(text) : text);
}

std::string render_logs(const json& result, bool escape) {
  std::string out;
  for (const json& line : array_field(result, "lines")) {
    out += render_log_line(line, escape);
  }
  return out;
}

std::string render_events(const json& result) {
  std::string out;
  for (const json& event : array_field(result, "events")) {
    out += render_event(event);
  }
  return out;
}

} // namespace vigil::ctl
