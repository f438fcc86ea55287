// SPDX-License-Identifier: Apache-2.0
// What runs: hello, status, tree, info, alive, registered.
#include "vigil/os/service.hpp"
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/spec_names.hpp"

#include "command_handlers.hpp"
#include "event_store.hpp"
#include "json_util.hpp"
#include "session.hpp"
#include "state.hpp"
#include "status_rows.hpp"
#include "tree_walk.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#ifndef VIGIL_VERSION
#  define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::daemon {
namespace {

using supervision::child_state;
using supervision::child_type;

/// Messages at most listed by `info`; a mailbox may hold millions.
constexpr std::size_t max_info_messages = 1000;

/// Room reserved per row of a full `status` reply.
constexpr std::size_t row_bytes = 192;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view state_name(child_state s) {
  switch (s) {
  case child_state::running: return "running";
  case child_state::restarting: return "restarting";
  case child_state::backoff: return "backoff";
  case child_state::stopped: return "stopped";
  case child_state::failed: return "failed";
  }
  return "?";
}

std::string_view status_name(process_status s) {
  switch (s) {
  case process_status::runnable: return "runnable";
  case process_status::running: return "running";
  case process_status::waiting: return "waiting";
  case process_status::exiting: return "exiting";
  }
  return "?";
}

std::string_view type_name(child_type t) {
  return supervision::name_of(t);
}

std::string strategy_name(const supervision::supervisor_spec* s) {
  return s == nullptr ? std::string("?") : std::string(supervision::name_of(s->how));
}

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
  // Sends the worker may not make (docs/security.md, "Workers").
  out["refused"] = p.refused;
  out["attached"] = p.attached;
  // Lines its log file missed (a full disk, EIO); still in the memory tail (`logs`).
  out["log_lines_dropped"] = p.log_lines_dropped;
  // The child's cgroup and how many processes are in it: the child and all it started.
  out["cgroup"] = p.cgroup.empty() ? json(nullptr) : json(p.cgroup);
  out["cgroup_procs"] = p.cgroup.empty() ? json(nullptr) : json(p.cgroup_procs);
}

status_row row_of(const daemon_state& st, const tree_node& n, std::int64_t now) {
  status_row row{.path = n.path,
                 .id = n.id,
                 .process = n.process,
                 .state = state_name(n.state),
                 .type = type_name(n.type),
                 .restarts = st.events.restarts(n.path)};
  if (n.state == child_state::failed) {
    row.failed = true;
    row.reason = n.reason;
    if (n.retry) {
      row.retry_ms = n.wait.count();
    }
  }
  if (n.process) {
    if (auto started = st.events.started_ms(*n.process)) {
      row.uptime_ms = now - *started;
    }
  }
  if (n.type == child_type::supervisor) {
    row.kind = "supervisor";
  } else if (n.spec != nullptr) {
    row.kind = n.spec->kind.empty() ? std::string_view("command") : n.spec->kind;
    row.mode = n.spec->mode;
    if (n.spec->mode != "inprocess") {
      row.os_fields = true;
      if (auto port = port_info_of(st, n.process)) {
        row.os_pid = port->os_pid;
        row.rss_kb = port->rss_kb;
        row.cpu_ms = port->cpu_ms;
        row.log_lines_dropped = static_cast<std::int64_t>(port->log_lines_dropped);
      }
    }
  }
  return row;
}

bool wanted(const tree_node& n, const std::vector<std::string>& names) {
  if (names.empty()) {
    return true;
  }
  // "root/" + name == path, compared in place: no string built per name and row.
  constexpr std::string_view root_prefix = "root/";
  const std::string_view path = n.path;
  const bool under_root = path.starts_with(root_prefix);
  const std::string_view below_root = under_root ? path.substr(root_prefix.size()) : path;
  for (const auto& name : names) {
    if (name == n.id || name == n.path || (under_root && name == below_root)) {
      return true;
    }
  }
  return false;
}

/// Writes the rows under `n` straight into the reply (a json tree of 10,000 rows cost more
/// than the walk); returns how many.
std::size_t add_rows(const daemon_state& st, const tree_node& n,
                     const std::vector<std::string>& names, std::int64_t now, json_writer& rows) {
  std::size_t count = 0;
  for (const auto& c : n.children) {
    if (wanted(c, names)) {
      write_status_row(rows, row_of(st, c, now));
      ++count;
    }
    count += add_rows(st, c, names, now, rows);
  }
  // The config's children that the supervisor no longer holds: temporary children that
  // ended. They are listed as "ended", and `start` brings them back.
  if (n.process && n.sup_spec != nullptr
      && n.sup_spec->how != supervision::strategy::simple_one_for_one) {
    for (const auto& spec : n.sup_spec->children) {
      bool held = std::any_of(n.children.begin(), n.children.end(),
                              [&spec](const tree_node& c) { return c.id == spec.id; });
      if (held) {
        continue;
      }
      tree_node ended;
      ended.path = n.path + "/" + spec.id;
      ended.id = spec.id;
      ended.type = spec.type;
      ended.spec = &spec;
      if (wanted(ended, names)) {
        status_row row = row_of(st, ended, now);
        row.state = "ended";
        write_status_row(rows, row);
        ++count;
      }
    }
  }
  return count;
}

std::size_t tree_size(const tree_node& n) {
  std::size_t size = n.children.size();
  for (const auto& c : n.children) {
    size += tree_size(c);
  }
  return size;
}

json tree_json(const tree_node& n) {
  json node{{"id", n.id},
            {"path", n.path},
            {"pid", pid_json(n.process)},
            {"type", type_name(n.type)},
            {"state", state_name(n.state)}};
  if (n.type == child_type::supervisor) {
    node["strategy"] = strategy_name(n.sup_spec);
  } else if (n.spec != nullptr) {
    node["kind"] = n.spec->kind;
  }
  json children = json::array();
  for (const auto& c : n.children) {
    children.push_back(tree_json(c));
  }
  node["children"] = std::move(children);
  return node;
}

json pid_list(const std::vector<pid>& pids) {
  json out = json::array();
  for (pid p : pids) {
    out.push_back(pid_json(p));
  }
  return out;
}

/// The last supervisor reports of `path` (event_store::exits), oldest first.
json exits_json(const daemon_state& st, const std::string& path) {
  json out = json::array();
  for (const auto& e : st.events.exits(path)) {
    json j = json::parse(e, nullptr, false);
    if (j.is_object()) {
      j.erase("v");
      j.erase("event");
      j.erase("path");
      out.push_back(std::move(j));
    }
  }
  return out;
}

json info_json(const daemon_state& st, const process_info& info) {
  json messages = json::array();
  std::size_t shown = 0;
  for (const auto& m : info.messages) {
    if (!m.is(session_wake()) && shown++ < max_info_messages) {
      messages.push_back(to_string(m));
    }
  }
  json out{{"pid", pid_json(info.self)},
           {"current_function", info.current_function},
           {"initial_call", info.initial_call},
           {"status", status_name(info.status)},
           {"message_queue_len", info.message_queue_len},
           {"messages", std::move(messages)},
           {"links", pid_list(info.links)},
           {"monitors", pid_list(info.monitors)},
           {"monitored_by", pid_list(info.monitored_by)},
           {"trap_exit", info.trap_exit},
           {"memory", info.memory},
           {"reductions", info.reductions},
           {"dropped", info.dropped},
           {"long_running", info.long_running}};
  if (info.registered_name) {
    out["registered_name"] = to_string(term(*info.registered_name));
  }
  if (auto rec = st.events.child(info.self)) {
    out["path"] = rec->path;
    out["restarts"] = st.events.restarts(rec->path);
    out["exits"] = exits_json(st, rec->path);
    if (rec->supervisor != pid{}) {
      out["parent"] = pid_json(rec->supervisor);
    }
  }
  if (auto port = port_info_of(st, info.self)) {
    add_port_info(out, *port);
  }
  return out;
}

} // namespace

task<outcome> cmd_hello(session_env& env, const request& /*req*/) {
  json r{{"daemon", "vigild"},
         {"version", VIGIL_VERSION},
         {"protocol", protocol_version},
         {"self", pid_json(env.self.self())},
         {"pid", static_cast<std::int64_t>(::getpid())}};
  co_return outcome::success(dump(r));
}

task<outcome> cmd_status(session_env& env, const request& req) {
  auto cfg = env.st.config();
  auto tree = co_await walk_tree(env.self, env.st.root(), *cfg);
  if (!tree) {
    co_return from_error(tree.error());
  }
  std::string text;
  if (req.names.empty()) {
    // A row takes ~160 bytes: growing 1.6 MB by doubling copied it twice over.
    text.reserve(tree_size(*tree) * row_bytes);
  }
  json_writer w(text);
  w.begin_object();
  w.key("workers");
  w.begin_array();
  const std::size_t count = add_rows(env.st, *tree, req.names, steady_ms(), w);
  w.end_array();
  w.end_object();
  if (!req.names.empty() && count == 0) {
    co_return outcome::failure(error_code::not_found,
                               "no worker named '" + req.names.front() + "'");
  }
  co_return outcome::success(std::move(text));
}

task<outcome> cmd_tree(session_env& env, const request& /*req*/) {
  auto cfg = env.st.config();
  auto tree = co_await walk_tree(env.self, env.st.root(), *cfg);
  if (!tree) {
    co_return from_error(tree.error());
  }
  json r{{"tree", tree_json(*tree)}};
  json spawned = json::array();
  for (const auto& d : env.st.detached()) {
    spawned.push_back({{"pid", to_string(term(d.process))}, {"kind", d.kind}, {"uid", d.uid}});
  }
  r["spawned"] = std::move(spawned);
  co_return outcome::success(dump(r));
}

task<outcome> cmd_info(session_env& env, const request& req) {
  auto target = co_await resolve_target(env, req.target);
  if (!target) {
    co_return target.error();
  }
  if (!target->process && !target->path.empty()) {
    // A child that is not running (failed, stopped, or ended): its state and last exits.
    auto cfg = env.st.config();
    auto found = co_await locate(env.self, env.st.root(), *cfg, target->path);
    json out{{"path", target->path}, {"state", "ended"}};
    if (found && found->info) {
      out["state"] = state_name(found->info->state);
      if (found->info->state == child_state::failed) {
        out["reason"] = found->info->reason;
        out["retry_ms"] = found->info->retry ? json(found->info->backoff_left.count()) : json();
      }
    }
    out["restarts"] = env.st.events.restarts(target->path);
    out["exits"] = exits_json(env.st, target->path);
    json r{{"info", std::move(out)}};
    co_return outcome::success(dump(r));
  }
  if (!target->process) {
    co_return outcome::failure(error_code::not_found, "'" + target->label + "' is not running");
  }
  pid p = *target->process;
  std::optional<process_info> info;
  if (p == env.self.self()) {
    info = env.self.info();
  } else {
    // runtime::info waits for the target: off the scheduler thread, on the blocking pool.
    runtime& rt = env.st.rt;
    info = co_await env.self.blocking([&rt, p] { return rt.info(p); });
  }
  if (!info) {
    co_return outcome::failure(error_code::not_found, to_string(term(p)) + " is not alive");
  }
  json r{{"info", info_json(env.st, *info)}};
  co_return outcome::success(dump(r));
}

task<outcome> cmd_alive(session_env& env, const request& req) {
  auto target = co_await resolve_target(env, req.target);
  if (!target) {
    co_return target.error();
  }
  bool alive = target->process && env.st.rt.alive(*target->process);
  json r{{"alive", alive}};
  co_return outcome::success(dump(r));
}

task<outcome> cmd_registered(session_env& env, const request& /*req*/) {
  json names = json::array();
  for (atom a : env.st.rt.registered()) {
    if (auto p = env.st.rt.whereis(a)) {
      names.push_back(json{{"name", to_string(term(a))}, {"pid", pid_json(*p)}});
    }
  }
  json r{{"names", std::move(names)}};
  co_return outcome::success(dump(r));
}

} // namespace vigil::daemon
