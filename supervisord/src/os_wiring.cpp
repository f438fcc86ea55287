// SPDX-License-Identifier: Apache-2.0
#include "os_wiring.hpp"

#include "event_store.hpp"
#include "journal_forwarder.hpp"
#include "state.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace vigil::daemon {

namespace {

using spec_match = bool (*)(const supervision::child_spec& a, const supervision::child_spec& b);

bool find_path(const supervision::supervisor_spec& sup, const supervision::child_spec& spec,
               spec_match same, const std::string& prefix, std::string& out) {
  for (const auto& c : sup.children) {
    std::string path = prefix + "/" + c.id;
    if (c.id == spec.id && same(c, spec)) {
      out = std::move(path);
      return true;
    }
    if (c.supervisor && find_path(*c.supervisor, spec, same, path, out)) {
      return true;
    }
  }
  return false;
}

} // namespace

std::string child_path(const config::config_tree& tree, const supervision::child_spec& spec) {
  std::string path;
  // Where the file wrote it tells apart two equal children under different supervisors; a
  // reload that only moved a child keeps the old place in the running spec, so an equal spec
  // is the next best.
  const spec_match written_at = [](const supervision::child_spec& a,
                                   const supervision::child_spec& b) {
    return a.where == b.where && b.where.line != 0;
  };
  const spec_match equal = [](const supervision::child_spec& a, const supervision::child_spec& b) {
    return a == b;
  };
  if (find_path(tree.root, spec, written_at, "root", path)
      || find_path(tree.root, spec, equal, "root", path)) {
    return path;
  }
  return spec.id;
}

std::unique_ptr<os::service> make_os_service(daemon_state& st, bool journal,
                                             std::shared_ptr<os::remote_router> router) {
  os::service_options o;
  auto cfg = st.config();
  o.plugins = cfg->daemon.plugins;
  o.strict_modes = st.strict_modes;
  // A cgroup per OS child (docs/os-workers.md, "cgroups"); null when off or not usable.
  os::cgroup_config cg;
  cg.mode = cfg->daemon.cgroup;
  cg.on_warning = [](const std::string& w) { spdlog::warn("{}", w); };
  cg.on_info = [](const std::string& i) { spdlog::info("{}", i); };
  // The pids limit of a child without its own (daemon.default_pids, docs/os-workers.md,
  // "Limits"); a share is worked out once the cgroups are found, as systemd's DefaultTasksMax=.
  const config::pids_default& pids = cfg->daemon.default_pids;
  if (pids.tasks > 0) {
    cg.default_pids = pids.tasks;
  } else {
    cg.default_pids_percent = pids.percent;
  }
  cg.warn_default_pids = pids != config::pids_default{};
  o.cgroups = os::cgroup_tree::open(cg);
  if (!o.cgroups && (cg.default_pids || cg.default_pids_percent > 0) && cg.warn_default_pids) {
    spdlog::warn("cgroups: daemon.default_pids is not applied: vigild runs without cgroups");
  }
  o.on_warning = [](const std::string& w) { spdlog::warn("{}", w); };
  // A worker's log that cannot be written (a symlink planted in log_dir, a directory others
  // may write) is an error in vigild's log; the worker runs on, its lines kept in memory.
  o.logs.on_error = [](const std::string& message) { spdlog::error("{}", message); };
  // A full disk (or EIO) loses no line silently: once when the file stops being written, once
  // when it is written again, with the lines dropped (also in `info` and `status`).
  o.logs.on_resume = [](const std::string& message) { spdlog::warn("{}", message); };
  o.logs.dir = cfg->daemon.log_dir; // empty: os::default_log_dir()
  o.router = std::move(router);
  // No OS worker reaches vigild's own processes, whatever pid it was given (docs/security.md).
  o.is_protected = [&st](pid p) { return st.guarded.shields(p); };
  // The log file and `vigilctl logs` name a child by its path, so that two `web`s under
  // different supervisors keep apart; the events tell the path only after the start.
  o.log_key = [&st](pid supervisor, const supervision::child_spec& spec) {
    // A supervisor whose start was told gives the path at once (after a reload too); at
    // boot a nested supervisor starts its children before its own start is told, and the
    // config tells.
    if (auto sup = st.events.child(supervisor)) {
      return sup->path + "/" + spec.id;
    }
    return child_path(*st.config(), spec);
  };
  // Workers' lines to journald; a full journal drops them for it, counted and told at most
  // once a second (journal_forwarder.hpp): they are in the workers' logs already.
  std::shared_ptr<journal_forwarder> to_journal;
  if (journal) {
    to_journal = std::make_shared<journal_forwarder>(
        "/run/systemd/journal/socket", [](const std::string& l) { spdlog::info("{}", l); },
        [](const std::string& w) { spdlog::warn("{}", w); });
  }
  // On the reactor thread: nothing here may block for long (the journal send does not wait,
  // nor does vigild's log to the journal: logging.cpp).
  o.on_line = [&st, to_journal](const os::output_line& l) {
    // The key is the child's path already; the record of its start, once there, is the same.
    auto child = st.events.child(l.port);
    std::string path = child ? child->path : l.key;
    std::string line(l.line);
    st.events.log_line(path, std::string(l.stream), line);
    // The journal's identifier is the child's id, the last part of its path (journal.hpp).
    std::string_view id = std::string_view(path).substr(path.rfind('/') + 1);
    if (to_journal) {
      to_journal->forward({id, path, l.stream, line, 0}, journal_forwarder::clock::now());
    }
  };
  return std::make_unique<os::service>(st.rt, std::move(o));
}

} // namespace vigil::daemon
