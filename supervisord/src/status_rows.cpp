// SPDX-License-Identifier: Apache-2.0
#include "status_rows.hpp"

#include "vigil/term/text.hpp"

namespace vigil::daemon {
namespace {

template <class T>
void field(json_writer& w, std::string_view key, const std::optional<T>& v) {
  w.key(key);
  if (v) {
    w.value(*v);
  } else {
    w.null();
  }
}

} // namespace

void write_status_row(json_writer& w, const status_row& r) {
  // Keys in sorted order: nlohmann::json's objects are sorted maps, and vigilctl and scripts
  // have always seen them so.
  w.begin_object();
  if (r.os_fields) {
    field(w, "cpu_ms", r.cpu_ms);
  }
  if (r.health) {
    w.key("health");
    w.value(*r.health);
  }
  w.key("id");
  w.value(r.id);
  field(w, "kind", r.kind);
  if (r.os_fields) {
    field(w, "log_lines_dropped", r.log_lines_dropped);
  }
  field(w, "mode", r.mode);
  if (r.os_fields) {
    field(w, "os_pid", r.os_pid);
  }
  w.key("path");
  w.value(r.path);
  w.key("pid");
  if (r.process) {
    w.value(to_string(term(*r.process)));
  } else {
    w.null();
  }
  if (r.failed) {
    w.key("reason");
    w.value(r.reason);
  }
  w.key("restarts");
  w.value(r.restarts);
  if (r.failed) {
    field(w, "retry_ms", r.retry_ms);
  }
  if (r.os_fields) {
    field(w, "rss_kb", r.rss_kb);
  }
  w.key("state");
  w.value(r.state);
  w.key("type");
  w.value(r.type);
  field(w, "uptime_ms", r.uptime_ms);
  w.end_object();
}

} // namespace vigil::daemon
