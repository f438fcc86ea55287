// SPDX-License-Identifier: Apache-2.0
#include "session.hpp"

#include "command_handlers.hpp"
#include "outbox.hpp"
#include "state.hpp"

namespace vigil::daemon {
namespace {

const atom a_wake("$vigil_session_wake");

/// Posts a reply line, counted against the connection's backlog until it is written. An
/// empty one (the end of input's item) is nothing to send: the loop would not write it, so
/// its reply_cost would never be credited back.
void post_reply(daemon_state& st, session_channel& ch, std::string line) {
  if (line.empty()) {
    return;
  }
  ch.reply_posted(line.size());
  st.out.push({post_kind::reply, ch.conn(), std::move(line), 0});
}

task<> run_one(context& self, daemon_state& st, session_channel& ch, queued_request item) {
  if (item.ready_reply) {
    post_reply(st, ch, std::move(*item.ready_reply));
  } else {
    session_env env{self, st, ch};
    outcome o = co_await run_command(env, item.req);
    if (o.whole_line) {
      post_reply(st, ch, std::move(o.text));
    } else if (!o.posted) {
      post_reply(st, ch,
                 o.ok ? reply_ok(item.req.id, o.text) : reply_error(item.req.id, o.code, o.text));
    }
    if (o.stop_daemon) {
      st.out.push({post_kind::shutdown, ch.conn(), {}, 0});
    }
  }
  st.out.push({post_kind::done, ch.conn(), {}, 0});
  if (item.close_after) {
    st.out.push({post_kind::close, ch.conn(), {}, 0});
  }
}

task<> session_process(context& self, std::shared_ptr<session_channel> ch, daemon_state& st) {
  protected_scope guard(st.guarded, self.self(),
                        "the session of control connection " + std::to_string(ch->conn()),
                        protected_pids::role::session, ch->peer_uid());
  const auto is_wake = [](const term& m) { return m.is(a_wake); };
  // Requests run one after another without waiting: a client that pipelines thousands
  // would hold this scheduler thread, and (where a finished sub-task's resumption of its
  // caller is not a tail call, as in unoptimised builds) grow its stack with each one until
  // vigild crashed. So the session gives its thread up after every few.
  constexpr int run_before_yield = 64;
  int run_in_a_row = 0;
  for (;;) {
    if (ch->backlogged()) {
      // The client has not read enough of its replies: the loop wakes us once it has.
      run_in_a_row = 0;
      (void)co_await self.receive_if(is_wake);
      continue;
    }
    auto item = ch->pop();
    if (item) {
      co_await run_one(self, st, *ch, std::move(*item));
      if (++run_in_a_row == run_before_yield) {
        run_in_a_row = 0;
        co_await self.yield();
      }
      continue;
    }
    run_in_a_row = 0;
    if (ch->closed()) {
      // What the session spawned ends with it, as a shell's processes end with the shell.
      for (pid p : ch->spawned) {
        self.exit(p, atoms::kill);
      }
      co_return;
    }
    // A wake may have been taken by `flush`; the queue is checked before every wait, so
    // none is needed for correctness, only to end the wait.
    (void)co_await self.receive_if(is_wake);
  }
}

} // namespace

void session_channel::push(queued_request item) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(item));
}

std::optional<queued_request> session_channel::pop() {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) {
    return std::nullopt;
  }
  auto item = std::move(queue_.front());
  queue_.pop_front();
  return item;
}

atom session_wake() {
  return a_wake;
}

result<pid> start_session(daemon_state& st, std::shared_ptr<session_channel> ch) {
  spawn_options options{.initial_call = "vigild:session/1"};
  return st.rt.spawn_opt(options, session_process, std::move(ch), st);
}

} // namespace vigil::daemon
