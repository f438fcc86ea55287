// SPDX-License-Identifier: Apache-2.0
#include "vigil/term/text.hpp"

#include "command_handlers.hpp"
#include "protocol_vocabulary.hpp"
#include "session.hpp"
#include "state.hpp"
#include "tree_lookup.hpp"

namespace vigil::daemon {
namespace {

std::optional<pid> registered_pid(runtime& rt, std::string_view name) {
  auto a = atom::find(name);
  return a ? rt.whereis(*a) : std::nullopt;
}

} // namespace

result<term, std::string> client_term(session_env& env, std::string_view text) {
  return parse_client_term(text, env.self.self(), &env.st.client_atoms(env.ch.peer_uid()));
}

outcome from_error(const error& e) {
  bool missing = e.code == make_error_code(errc::not_found);
  return outcome::failure(missing ? error_code::not_found : error_code::failed,
                          e.context.empty() ? e.code.message() : e.context);
}

task<result<resolved_target, outcome>> resolve_target(session_env& env, std::string text) {
  auto parsed = parse_target(text, env.self.self());
  if (!parsed) {
    co_return outcome::failure(error_code::invalid_argument, parsed.error());
  }
  if (parsed->what == target::kind::process) {
    co_return resolved_target{parsed->process, text, {}};
  }
  bool as_atom = parsed->what == target::kind::registered;
  if (as_atom) {
    if (auto p = registered_pid(env.st.rt, parsed->name)) {
      co_return resolved_target{p, text, {}};
    }
  }
  // A worker id or path; `:echo` too when no process is registered as :echo, so that the
  // shell's send(:echo, ...) reaches the worker whose id is echo.
  auto cfg = env.st.config();
  auto found = locate(env.st, *cfg, parsed->name);
  if (!found && as_atom) {
    co_return outcome::failure(error_code::not_found, "no process is registered as :" + parsed->name
                                                          + ", and no worker has that id");
  }
  if (found) {
    std::optional<pid> p;
    if (found->info) {
      p = found->info->process;
    }
    co_return resolved_target{p, found->path, found->path};
  }
  // Not a worker: a registered name written without its colon, as the protocol allows.
  if (found.error().code == make_error_code(errc::not_found)) {
    if (auto p = registered_pid(env.st.rt, parsed->name)) {
      co_return resolved_target{p, text, {}};
    }
  }
  co_return from_error(found.error());
}

task<outcome> run_command(session_env& env, const request& req) {
  if (env.st.stopping.load() && req.cmd != command::hello) {
    co_return outcome::failure(error_code::shutting_down, "vigild is stopping");
  }
  switch (req.cmd) {
  case command::hello: co_return co_await cmd_hello(env, req);
  case command::status: co_return co_await cmd_status(env, req);
  case command::tree: co_return co_await cmd_tree(env, req);
  case command::info: co_return co_await cmd_info(env, req);
  case command::alive: co_return co_await cmd_alive(env, req);
  case command::registered: co_return co_await cmd_registered(env, req);
  case command::start: co_return co_await cmd_start(env, req);
  case command::stop: co_return co_await cmd_stop(env, req);
  case command::restart: co_return co_await cmd_restart(env, req);
  case command::kill: co_return co_await cmd_kill(env, req);
  case command::spawn: co_return co_await cmd_spawn(env, req);
  case command::reload: co_return co_await cmd_reload(env, req);
  case command::shutdown: co_return co_await cmd_shutdown(env, req);
  case command::send: co_return co_await cmd_send(env, req);
  case command::flush: co_return co_await cmd_flush(env, req);
  case command::receive: co_return co_await cmd_receive(env, req);
  case command::logs: co_return co_await cmd_logs(env, req);
  case command::events: co_return co_await cmd_events(env, req);
  }
  co_return outcome::failure(error_code::unknown_command, "unknown command");
}

} // namespace vigil::daemon
