// SPDX-License-Identifier: Apache-2.0
#include "command_call.hpp"

#include "command_handlers.hpp"
#include "session.hpp"
#include "state.hpp"

#include <utility>

namespace vigil::daemon {
namespace {

/// Calls `done` exactly once: with the command's answer, or, when the process ends without
/// one (killed, or the command threw), with an error from the destructor, so that the
/// observer's request is answered and its session place given back either way.
class answer_once {
public:
  explicit answer_once(command_done done) : done_(std::move(done)) {}

  answer_once(const answer_once&) = delete;
  answer_once& operator=(const answer_once&) = delete;

  ~answer_once() {
    if (done_) {
      try {
        done_(command_answer{false, error_code::failed, "the command ended without an answer"});
      } catch (...) { // NOLINT(bugprone-empty-catch): a destructor must not throw
      }
    }
  }

  void operator()(command_answer a) {
    command_done d = std::move(done_);
    done_ = nullptr;
    d(std::move(a));
  }

private:
  command_done done_;
};

task<> command_process(context& self, daemon_state& st, request req, ::uid_t uid,
                       command_done done) {
  answer_once answer(std::move(done));
  // Like a session, out of reach of workers: none may send it a forged reply.
  protected_scope guard(st.guarded, self.self(), "an observer command",
                        protected_pids::role::session);
  // No connection: nothing the command posts by itself (a follow) can reach one, and the
  // observer runs none that does.
  session_channel ch(0, uid);
  ch.close();
  session_env env{self, st, ch};
  outcome o = co_await run_command(env, req);
  answer(command_answer{o.ok, o.code, std::move(o.text)});
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
