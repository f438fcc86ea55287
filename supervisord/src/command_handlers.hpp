// SPDX-License-Identifier: Apache-2.0
#pragma once

// The commands of docs/protocol.md, as a session process runs them.

#include "vigil/runtime/context.hpp"

#include "protocol_vocabulary.hpp"

#include <optional>
#include <string>

namespace vigil::daemon {

class daemon_state;
class session_channel;

/// What a command runs with: its session process, the daemon, its connection.
struct session_env {
  context& self;
  daemon_state& st;
  session_channel& ch;
};

/// A command's outcome: the result object (JSON text) or an error.
struct outcome {
  bool ok = true;
  error_code code = error_code::failed;
  std::string text;
  /// The reply went out already (a follow request posts it with its subscription).
  bool posted = false;
  /// After the reply, the daemon stops (`shutdown`).
  bool stop_daemon = false;
  /// `text` is the whole reply line already (begin_reply_ok ... end_reply_ok): a reply of
  /// megabytes (`status`) is written once, in place.
  bool whole_line = false;

  static outcome success(std::string json) { return {true, error_code::failed, std::move(json)}; }

  static outcome line(std::string reply_line) {
    outcome o{true, error_code::failed, std::move(reply_line)};
    o.whole_line = true;
    return o;
  }

  static outcome failure(error_code c, std::string message) {
    return {false, c, std::move(message)};
  }
};

/// Runs `req` in the session.
[[nodiscard]] task<outcome> run_command(session_env& env, const request& req);

// One function per command, grouped by file: commands_tree.cpp (what runs),
// commands_control.cpp (changing it), commands_messages.cpp (messages and streams).
[[nodiscard]] task<outcome> cmd_hello(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_status(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_tree(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_info(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_alive(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_registered(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_start(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_stop(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_restart(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_kill(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_spawn(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_reload(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_shutdown(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_send(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_flush(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_receive(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_logs(session_env& env, const request& req);
[[nodiscard]] task<outcome> cmd_events(session_env& env, const request& req);

/// Parses a term the client sent, drawing its new atoms on the client's budget.
[[nodiscard]] result<term, std::string> client_term(session_env& env, std::string_view text);

/// A target resolved to a process: its pid when it runs, and how to name it in messages.
struct resolved_target {
  std::optional<pid> process;
  std::string label;
  /// The worker path, when the target named a child of the tree.
  std::string path;
};

/// Resolves a `target` (docs/protocol.md): a pid, `:name`, or a worker id or path (else a
/// registered name). A child that is not running resolves with no pid.
[[nodiscard]] task<result<resolved_target, outcome>> resolve_target(session_env& env,
                                                                    std::string text);

/// The protocol error for a failed call of the supervision API.
[[nodiscard]] outcome from_error(const error& e);

} // namespace vigil::daemon
