// SPDX-License-Identifier: Apache-2.0
// What one process is: info (Process.info, and an OS child's facts), alive, registered.
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/spec_names.hpp"

#include "command_handlers.hpp"
#include "event_store.hpp"
#include "json_util.hpp"
#include "port_json.hpp"
#include "protocol_vocabulary.hpp"
#include "session.hpp"
#include "state.hpp"
#include "tree_index.hpp"
#include "tree_lookup.hpp"

#include <vector>

namespace vigil::daemon {
namespace {

using supervision::child_state;

/// Messages at most listed by `info`; a mailbox may hold millions.
constexpr std::size_t max_info_messages = 1000;

std::string_view status_name(process_status s) {
  switch (s) {
  case process_status::runnable: return "runnable";
  case process_status::running: return "running";
  case process_status::waiting: return "waiting";
  case process_status::exiting: return "exiting";
  }
  return "?";
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

/// `info` of a child that is not running (failed, stopped, ended, or between two runs): its
/// state and last exits.
json not_running_json(session_env& env, const std::string& path) {
  auto cfg = env.st.config();
  auto found = locate(env.st, *cfg, path);
  json out{{"path", path}, {"state", "ended"}};
  if (found && found->info) {
    out["state"] = supervision::name_of(found->info->state);
    if (found->info->state == child_state::failed) {
      out["reason"] = found->info->reason;
      out["retry_ms"] = found->info->retry ? json(found->info->backoff_left.count()) : json();
    } else if (!found->info->reason.empty()) {
      out["reason"] = found->info->reason; // stopped for good by its exit status
    }
  }
  out["restarts"] = env.st.index.restarts(path);
  out["exits"] = exits_json(env.st, path);
  return out;
}
} // namespace

task<outcome> cmd_info(session_env& env, const request& req) {
  auto target = co_await resolve_target(env, req.target);
  if (!target) {
    co_return target.error();
  }
  if (!target->process && !target->path.empty()) {
    co_return outcome::success(dump(json{{"info", not_running_json(env, target->path)}}));
  }
  if (!target->process) {
    co_return outcome::failure(error_code::not_found, "'" + target->label + "' is not running");
  }
  pid p = *target->process;
  // A session's queued messages are its client's (replies to its `send --await`, what it
  // was sent): another allowed user may not read them, as it may not send to or kill it.
  // Root and vigild's own user, who may read everything, still can.
  if (auto e = env.st.guarded.find(p); e && e->kind == protected_pids::role::session
                                       && p != env.self.self() && e->client
                                       && *e->client != env.ch.peer_uid()) {
    const auto uid = env.ch.peer_uid();
    if (uid != 0 && uid != env.st.policy().daemon_uid) {
      co_return outcome::failure(error_code::protected_process,
                                 to_string(term(p)) + " is " + e->what
                                     + "; its messages are its client's (uid "
                                     + std::to_string(*e->client) + ")");
    }
  }
  std::optional<process_info> info;
  if (p == env.self.self()) {
    info = env.self.info();
  } else {
    // runtime::info waits for the target: off the scheduler thread, on the blocking pool.
    runtime& rt = env.st.rt;
    info = co_await env.self.blocking([&rt, p] { return rt.info(p); });
  }
  if (!info && !target->path.empty()) {
    // The child died between naming its process and asking it (a crash loop): answer as
    // for a child that is not running, with its state and last exits, not with an error.
    co_return outcome::success(dump(json{{"info", not_running_json(env, target->path)}}));
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
