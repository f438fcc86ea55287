// SPDX-License-Identifier: Apache-2.0
// Changing what runs: start, stop, restart, kill, spawn, reload, shutdown.
#include "vigil/supervision/client.hpp"
#include "vigil/supervision/readiness.hpp"

#include "command_handlers.hpp"
#include "json_util.hpp"
#include "live_reload.hpp"
#include "protocol_vocabulary.hpp"
#include "session.hpp"
#include "state.hpp"
#include "tree_lookup.hpp"

namespace vigil::daemon {
namespace {

using supervision::child_type;
using supervision::strategy;

/// Starting or stopping a subtree may take a while: each child's start, each shutdown.
constexpr timeout control_timeout{30000};
/// How long `spawn` waits for the kind to start its process.
constexpr timeout spawn_timeout{5000};

const atom a_spawned("$vigil_spawned");

bool simple_supervisor(const supervision::child_spec* spec) {
  return spec != nullptr && spec->supervisor != nullptr
         && spec->supervisor->how == strategy::simple_one_for_one;
}

outcome pid_reply(const std::optional<pid>& p) {
  json r{{"pid", pid_json(p)}};
  return outcome::success(dump(r));
}

task<outcome> start_dynamic(session_env& env, pid sup) {
  auto p = co_await supervision::start_dynamic_child(env.self, sup, term(), control_timeout);
  if (!p) {
    co_return from_error(p.error());
  }
  co_return pid_reply(*p);
}

/// Starts `l` again: restart_child for a child its supervisor still holds, start_child from
/// the config for one it forgot (a temporary child that ended).
task<outcome> start_located(session_env& env, const located& l) {
  if (l.info && l.info->process) {
    // Nothing to do is not a failure, as systemctl start of a running unit.
    json r{{"pid", pid_json(l.info->process)}, {"unchanged", true}};
    co_return outcome::success(dump(r));
  }
  if (l.info) {
    auto wait = l.spec != nullptr ? supervision::start_call_timeout(*l.spec, control_timeout)
                                  : control_timeout;
    auto p = co_await supervision::restart_child(env.self, l.supervisor, l.id, wait);
    if (!p) {
      co_return from_error(p.error());
    }
    co_return pid_reply(*p);
  }
  if (l.spec == nullptr) {
    co_return outcome::failure(error_code::not_found, "no worker at '" + l.path + "'");
  }
  auto p = co_await supervision::start_child(
      env.self, l.supervisor, *l.spec, supervision::start_call_timeout(*l.spec, control_timeout));
  if (!p) {
    co_return from_error(p.error());
  }
  co_return pid_reply(*p);
}

/// Finds what `stop` or `restart` names: a child by name, or a dynamic child by pid.
task<result<located, outcome>> find_child(session_env& env, const std::string& name) {
  auto cfg = env.st.config();
  auto parsed = parse_target(name, env.self.self());
  if (!parsed) {
    co_return outcome::failure(error_code::invalid_argument, parsed.error());
  }
  // g++ 12 rejects co_await in the arms of ?:.
  result<located> found = error{};
  if (parsed->what == target::kind::process) {
    found = locate_pid(env.st, *cfg, parsed->process);
  } else {
    found = locate(env.st, *cfg, parsed->name);
  }
  if (!found) {
    co_return from_error(found.error());
  }
  co_return std::move(*found);
}

task<result<void>> terminate(session_env& env, const located& l) {
  if (l.dynamic()) {
    if (!l.info || !l.info->process) {
      co_return error{make_error_code(errc::not_found), "'" + l.path + "' is not running"};
    }
    co_return co_await supervision::terminate_child(env.self, l.supervisor, *l.info->process,
                                                    control_timeout);
  }
  co_return co_await supervision::terminate_child(env.self, l.supervisor, l.id, control_timeout);
}

task<> spawner(context& self, daemon_state& st, const workers::kind* k, term args, pid reply_to,
               reference ref) {
  protected_scope guard(st.guarded, self.self(), std::string("vigild's spawner"));
  // Trapping exits: a worker that dies at once must not take the answer down with it.
  self.trap_exit(true);
  auto started = k->start(self, args);
  if (started) {
    self.unlink(*started);
    self.send(reply_to, vigil::make_tuple(a_spawned, ref, *started));
  } else {
    self.send(reply_to, vigil::make_tuple(a_spawned, ref, started.error().message()));
  }
  co_return;
}

} // namespace

task<outcome> cmd_start(session_env& env, const request& req) {
  auto cfg = env.st.config();
  if (split_path(req.target).empty()) {
    if (cfg->root.how != strategy::simple_one_for_one) {
      co_return outcome::failure(error_code::invalid_argument,
                                 "'root' is the root supervisor; name one of its children");
    }
    co_return co_await start_dynamic(env, env.st.root());
  }
  auto found = locate(env.st, *cfg, req.target);
  if (!found) {
    co_return from_error(found.error());
  }
  const located& l = *found;
  if (l.info && l.info->type == child_type::supervisor && l.info->process
      && simple_supervisor(l.spec)) {
    co_return co_await start_dynamic(env, *l.info->process);
  }
  co_return co_await start_located(env, l);
}

task<outcome> cmd_stop(session_env& env, const request& req) {
  auto found = co_await find_child(env, req.target);
  if (!found) {
    co_return found.error();
  }
  bool running = found->info && found->info->process;
  auto stopped = co_await terminate(env, *found);
  if (!stopped) {
    co_return from_error(stopped.error());
  }
  json r{{"pid", nullptr}, {"unchanged", !running}};
  co_return outcome::success(dump(r));
}

task<outcome> cmd_restart(session_env& env, const request& req) {
  auto found = co_await find_child(env, req.target);
  if (!found) {
    co_return found.error();
  }
  located l = std::move(*found);
  if (l.dynamic()) {
    co_return outcome::failure(error_code::failed,
                               "a dynamic child is not restarted by name: stop it and start "
                               "another from its supervisor");
  }
  if (!l.info) {
    co_return co_await start_located(env, l); // ended and forgotten: nothing to stop
  }
  auto stopped = co_await terminate(env, l);
  if (!stopped) {
    co_return from_error(stopped.error());
  }
  // A temporary child is forgotten once stopped: start it again from the config.
  bool forgotten = l.spec != nullptr && l.spec->restart == supervision::restart_type::temporary;
  l.info.reset();
  if (!forgotten) {
    l.info = supervision::child_info{l.id, std::nullopt, child_type::worker, {}, {}};
  }
  co_return co_await start_located(env, l);
}

task<outcome> cmd_kill(session_env& env, const request& req) {
  term reason = atoms::kill;
  if (req.term) {
    auto parsed = client_term(env, *req.term);
    if (!parsed) {
      co_return outcome::failure(error_code::invalid_argument, parsed.error());
    }
    reason = std::move(*parsed);
  }
  auto target = co_await resolve_target(env, req.target);
  if (!target) {
    co_return target.error();
  }
  if (!target->process) {
    co_return outcome::failure(error_code::not_found, "'" + target->label + "' is not running");
  }
  if (auto refused = env.st.guarded.refusal(*target->process, env.self.self())) {
    co_return outcome::failure(error_code::protected_process, *refused);
  }
  env.self.exit(*target->process, reason);
  co_return outcome::success(R"({"sent":true})");
}

task<outcome> cmd_spawn(session_env& env, const request& req) {
  const workers::kind* k = env.st.kinds.find(req.target);
  if (k == nullptr) {
    std::string known;
    for (const auto& name : env.st.kinds.names()) {
      known += (known.empty() ? "" : ", ") + name;
    }
    co_return outcome::failure(error_code::not_found,
                               "no worker kind '" + req.target + "' (known: " + known + ")");
  }
  term args = term::map(std::span<const std::pair<term, term>>{});
  if (req.term) {
    auto parsed = client_term(env, *req.term);
    if (!parsed) {
      co_return outcome::failure(error_code::invalid_argument, parsed.error());
    }
    args = std::move(*parsed);
  }
  // What a session spawns belongs to it: bounded while it runs, ended when it ends. A
  // detached process (`vigilctl spawn`) outlives it, bounded per user and listed in `tree`.
  auto& owned = env.ch.spawned;
  std::erase_if(owned, [&](pid p) { return !env.st.rt.alive(p); });
  if (!req.detach && owned.size() >= session_channel::max_spawned) {
    co_return outcome::failure(error_code::failed,
                               "this session already runs "
                                   + std::to_string(session_channel::max_spawned)
                                   + " spawned processes; kill some, or start workers from "
                                     "the config");
  }
  if (req.detach && !env.st.may_detach(env.ch.peer_uid())) {
    co_return outcome::failure(error_code::failed,
                               "uid " + std::to_string(env.ch.peer_uid()) + " already runs "
                                   + std::to_string(daemon_state::max_detached_per_user)
                                   + " detached processes (see vigilctl tree); kill some");
  }
  reference ref = env.self.make_ref();
  env.self.spawn(spawner, env.st, k, args, env.self.self(), ref);
  const auto answer = pattern::tuple({a_spawned, term(ref), pattern::bind("r")});
  auto r = co_await env.self.receive(answer, spawn_timeout);
  if (!r) {
    co_return outcome::failure(error_code::failed,
                               "kind '" + req.target + "' did not start in time");
  }
  if (!r[0].is_pid()) {
    co_return outcome::failure(error_code::failed, std::string(r[0].as_string()));
  }
  if (req.detach) {
    env.st.add_detached({r[0].as_pid(), req.target, env.ch.peer_uid()});
  } else {
    owned.push_back(r[0].as_pid());
  }
  co_return pid_reply(r[0].as_pid());
}

task<outcome> cmd_reload(session_env& env, const request& req) {
  auto done = co_await reload_config(env.self, env.st, req.dry_run);
  if (done.busy) {
    co_return outcome::failure(error_code::failed, "a reload is already in progress");
  }
  if (!done.loaded) {
    co_return outcome::failure(error_code::failed, done.errors);
  }
  json r{{"plan", json::parse(plan_json(done.plan), nullptr, false)}, {"applied", done.applied}};
  if (!done.failures.empty()) {
    r["warnings"] = done.failures;
  }
  co_return outcome::success(dump(r));
}

task<outcome> cmd_shutdown(session_env& /*env*/, const request& /*req*/) {
  outcome o = outcome::success(R"({"stopping":true})");
  o.stop_daemon = true;
  co_return o;
}

} // namespace vigil::daemon
