// SPDX-License-Identifier: Apache-2.0
#include "command_call.hpp"

#include "command_handlers.hpp"
#include "session.hpp"
#include "state.hpp"

namespace vigil::daemon {
namespace {

task<> command_process(context& self, daemon_state& st, request req, ::uid_t uid,
                       command_done done) {
  // Like a session, out of reach of workers: none may send it a forged reply.
  protected_scope guard(st.guarded, self.self(), "an observer command",
                        protected_pids::role::session);
  // No connection: nothing the command posts by itself (a follow) can reach one, and the
  // observer runs none that does.
  session_channel ch(0, uid);
  ch.close();
  session_env env{self, st, ch};
  outcome o = co_await run_command(env, req);
  done(command_answer{o.ok, o.code, std::move(o.text)});
}

} // namespace

result<void> call_command(daemon_state& st, request req, ::uid_t uid, command_done done) {
  spawn_options options{.initial_call = "vigild:observer_command/1"};
  auto p = st.rt.spawn_opt(options, command_process, st, std::move(req), uid, std::move(done));
  if (!p) {
    return p.error();
  }
  return {};
}

} // namespace vigil::daemon
