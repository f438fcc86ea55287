// SPDX-License-Identifier: Apache-2.0
#include "status_rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace vigil::daemon {
namespace {

template <class T>
void field(json_writer& w, std::string_view key, const std::optional<T>& v) {
  w.plain_key(key);
  if (v) {
    w.value(*v);
  } else {
    w.null();
  }
}

/// A pid as vigil's term text writes it ("#PID<0.12.1>"), a JSON string that needs no
/// escaping, written in place.
void write_pid(json_writer& w, pid p) {
  // Three 64-bit numbers at most: 20 digits each, with the quotes, "#PID<", dots and '>'.
  std::array<char, 80> buf{};
  auto written =
      fmt::format_to_n(buf.data(), buf.size(), "\"#PID<{}.{}.{}>\"", p.node, p.index, p.serial);
  w.raw_value(std::string_view(buf.data(), std::min(written.size, buf.size())));
}

} // namespace

namespace {

/// The row up to its last value: uptime_ms's key, which sorts last.
void write_head(json_writer& w, const status_row& r) {
  // Keys in sorted order: nlohmann::json's objects are sorted maps, and vigilctl and scripts
  // have always seen them so.
  w.begin_object();
  if (r.os_fields) {
    field(w, "cgroup_cpu_ms", r.cgroup_cpu_ms);
    field(w, "cgroup_memory_bytes", r.cgroup_memory_bytes);
    field(w, "cgroup_pids", r.cgroup_pids);
    field(w, "cpu_ms", r.cpu_ms);
  }
  if (r.health) {
    w.plain_key("health");
    w.value(*r.health);
  }
  w.plain_key("id");
  w.value(r.id);
  field(w, "kind", r.kind);
  if (r.os_fields) {
    field(w, "log_lines_dropped", r.log_lines_dropped);
  }
  field(w, "mode", r.mode);
  if (r.os_fields) {
    field(w, "os_pid", r.os_pid);
  }
  w.plain_key("path");
  w.value(r.path);
  w.plain_key("pid");
  if (r.process) {
    write_pid(w, *r.process);
  } else {
    w.null();
  }
  if (r.failed || !r.reason.empty()) {
    w.plain_key("reason");
    w.value(r.reason);
  }
  w.plain_key("restarts");
  w.value(r.restarts);
  if (r.failed) {
    field(w, "retry_ms", r.retry_ms);
  }
  if (r.os_fields) {
    field(w, "rss_kb", r.rss_kb);
  }
  w.plain_key("state");
  w.value(r.state);
  w.plain_key("type");
  w.value(r.type);
  w.plain_key("uptime_ms");
}

void write_tail(json_writer& w, std::optional<std::int64_t> uptime_ms) {
  if (uptime_ms) {
    w.value(*uptime_ms);
  } else {
    w.null();
  }
  w.end_object();
}

} // namespace

void write_status_row(json_writer& w, const status_row& r) {
  write_head(w, r);
  write_tail(w, r.uptime_ms);
}

std::string status_row_head(const status_row& r) {
  std::string text;
  json_writer w(text);
  write_head(w, r);
  return text;
}

void write_status_row(json_writer& w, std::string_view head,
                      std::optional<std::int64_t> uptime_ms) {
  w.raw_open(head);
  write_tail(w, uptime_ms);
}

} // namespace vigil::daemon
