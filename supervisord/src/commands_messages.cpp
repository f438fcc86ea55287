// SPDX-License-Identifier: Apache-2.0
// Messages and streams: send, flush, receive, logs, events.
#include "command_handlers.hpp"
#include "event_store.hpp"
#include "json_util.hpp"
#include "protocol_vocabulary.hpp"
#include "session.hpp"
#include "state.hpp"
#include "tree_lookup.hpp"

#include <algorithm>

namespace vigil::daemon {
namespace {

/// The longest a request may wait on purpose (`await_ms`, `timeout_ms`): a day.
constexpr std::int64_t max_wait_ms = 86'400'000;
/// `receive` without `timeout_ms` waits this long.
constexpr std::int64_t default_receive_ms = 5000;
constexpr std::size_t default_events = 100;
constexpr std::size_t default_log_lines = 50;

timeout wait_of(std::int64_t ms) {
  return timeout(std::clamp<std::int64_t>(ms, 0, max_wait_ms));
}

/// Takes a message for the client: anything but the session's wake, which it only takes
/// once the connection is closed, to end the wait early.
task<std::optional<term>> take_message(session_env& env, timeout after) {
  session_channel& ch = env.ch;
  const auto accept = [&ch](const term& m) { return !m.is(session_wake()) || ch.closed(); };
  auto r = co_await env.self.receive_if(accept, after);
  if (!r || r.message.is(session_wake())) {
    co_return std::nullopt;
  }
  co_return std::move(r.message);
}

std::string joined_array(const std::vector<std::string>& objects) {
  std::string out = "[";
  for (std::size_t i = 0; i < objects.size(); ++i) {
    out += (i == 0 ? "" : ",") + objects[i];
  }
  return out + "]";
}

std::size_t count_of(const request& req, std::size_t fallback) {
  return req.count ? static_cast<std::size_t>(*req.count) : fallback;
}

} // namespace

task<outcome> cmd_send(session_env& env, const request& req) {
  auto message = client_term(env, req.term.value_or(""));
  if (!message) {
    co_return outcome::failure(error_code::invalid_argument, message.error());
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
  env.self.send(*target->process, *message);
  json replies = json::array();
  if (req.await_ms && *req.await_ms > 0) {
    // The first reply within await_ms, then whatever else has already arrived.
    auto first = co_await take_message(env, wait_of(*req.await_ms));
    if (first) {
      replies.push_back(to_string(*first));
      for (;;) {
        auto more = co_await take_message(env, timeout::zero());
        if (!more) {
          break;
        }
        replies.push_back(to_string(*more));
      }
    }
  }
  json r{{"sent", true}, {"replies", std::move(replies)}};
  co_return outcome::success(dump(r));
}

task<outcome> cmd_flush(session_env& env, const request& /*req*/) {
  json messages = json::array();
  for (const auto& m : env.self.flush()) {
    if (!m.is(session_wake())) {
      messages.push_back(to_string(m));
    }
  }
  json r{{"messages", std::move(messages)}};
  co_return outcome::success(dump(r));
}

task<outcome> cmd_receive(session_env& env, const request& req) {
  auto m = co_await take_message(env, wait_of(req.timeout_ms.value_or(default_receive_ms)));
  json r{{"message", m ? json(to_string(*m)) : json(nullptr)}};
  co_return outcome::success(dump(r));
}

task<outcome> cmd_logs(session_env& env, const request& req) {
  auto cfg = env.st.config();
  auto found = locate(env.st, *cfg, req.target);
  if (!found) {
    co_return from_error(found.error());
  }
  std::size_t n = count_of(req, default_log_lines);
  std::string id = req.id;
  auto reply = [&id](const std::vector<std::string>& lines) {
    return reply_ok(id, R"({"lines":)" + joined_array(lines) + "}");
  };
  if (req.follow) {
    env.st.events.follow_logs(env.ch.conn(), found->path, n, reply);
    outcome o;
    o.posted = true;
    co_return o;
  }
  co_return outcome::success(R"({"lines":)" + joined_array(env.st.events.logs(found->path, n))
                             + "}");
}

task<outcome> cmd_events(session_env& env, const request& req) {
  std::size_t n = count_of(req, default_events);
  std::string id = req.id;
  auto reply = [&id](const std::vector<std::string>& events) {
    return reply_ok(id, R"({"events":)" + joined_array(events) + "}");
  };
  if (req.follow) {
    env.st.events.follow_events(env.ch.conn(), n, reply);
    outcome o;
    o.posted = true;
    co_return o;
  }
  co_return outcome::success(R"({"events":)" + joined_array(env.st.events.recent(n)) + "}");
}

} // namespace vigil::daemon
