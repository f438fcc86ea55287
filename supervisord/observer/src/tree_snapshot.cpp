// SPDX-License-Identifier: Apache-2.0
#include "tree_snapshot.hpp"

#include "vigil/os/service.hpp"
#include "vigil/supervision/spec_names.hpp"

#include "state.hpp"

#include <chrono>

namespace vigil::observer {
namespace {

using supervision::child_state;
using supervision::child_type;

void collect(const daemon::tree_index::view& v, std::string_view sup_path, bool with_history,
             tree_snapshot& out) {
  v.children(sup_path, [&](const daemon::indexed_child& c) {
    const bool supervisor = c.type == child_type::supervisor;
    child_row r;
    r.path = c.path;
    r.id = c.id;
    if (supervisor) {
      r.kind = "supervisor";
    } else {
      r.kind = c.spec && !c.spec->kind.empty() ? c.spec->kind : std::string("command");
      r.os_child = c.spec && c.spec->mode != "inprocess";
    }
    r.type = supervision::name_of(c.type);
    r.state = supervision::name_of(c.state);
    if (!c.history.empty()) {
      r.last_exit_reason = c.history.back().reason;
    }
    if (with_history) {
      r.history = c.history;
    }
    r.restarts = c.restarts;
    r.dynamic = c.dynamic;
    r.process = c.process;
    if (c.process) {
      r.uptime_ms = out.now_ms - c.started_ms;
    }
    out.children.push_back(std::move(r));
    if (supervisor && c.process) {
      out.supervisors.push_back(
          {c.path, c.spec && c.spec->supervisor ? c.spec->supervisor->intensity : 0U});
      collect(v, c.path, with_history, out);
    }
  });
}

} // namespace

tree_snapshot take_snapshot(const daemon::daemon_state& st, bool with_history) {
  tree_snapshot out;
  out.children.reserve(st.index.size());
  out.supervisors.push_back({"root", st.config()->root.intensity});
  out.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
                   .count();
  st.index.read([&](const daemon::tree_index::view& v) { collect(v, "root", with_history, out); });
  if (st.os != nullptr) {
    // After the index's lock: the OS service has its own.
    for (auto& c : out.children) {
      if (c.os_child && c.process) {
        if (auto info = st.os->info(*c.process)) {
          c.os_pid = info->os_pid;
          c.rss_kb = info->rss_kb;
          c.cpu_ms = info->cpu_ms;
        }
      }
    }
  }
  return out;
}

} // namespace vigil::observer
