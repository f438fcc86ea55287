// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/ctl/client.hpp"
#include "vigil/ctl/error.hpp"
#include "vigil/ctl/json.hpp"

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace vigil::ctl {

/// Options every command takes.
struct global_options {
  /// `--socket PATH`; else the rule of `socket_candidates`.
  std::optional<std::string> socket;
  /// `--json`: print the reply's `result` object (and each event) as one JSON line.
  bool json = false;
  /// `--timeout`: how long to wait for a reply, beyond any `--await` the request asks for.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  /// States in colour: set when stdout is a terminal and NO_COLOR is unset.
  bool colour = false;
};

/// One command line, parsed: which command and its arguments. Fields a command does not
/// take stay at their defaults.
struct invocation {
  /// `status`, `tree`, `info`, `start`, `stop`, `restart`, `kill`, `send`, `logs`,
  /// `reload`, `events`, `spawn`, `registered` or `shutdown`.
  std::string command;
  std::vector<std::string> names; ///< status: the workers to show (all when empty)
  std::string target; ///< info, kill, send: TARGET; start/stop/restart/logs: NAME; spawn: KIND
  std::string term;   ///< send: TERM; kill: REASON; spawn: ARGS (term text)
  std::optional<std::chrono::milliseconds> await; ///< send --await
  std::optional<int> lines;                       ///< logs -n, events -n
  bool follow = false;                            ///< logs -f, events -f
  bool dry_run = false;                           ///< reload --dry-run
  /// logs: write out the control characters of log text (escape_control_characters).
  /// vigilctl sets it when its output is a terminal and `--raw` is not given.
  bool escape_logs = false;
};

/// A protocol request: `cmd`, `args`, and how long the daemon may wait on purpose before it
/// replies (a `send`'s `await_ms`).
struct request {
  std::string cmd;
  json args = json::object();
  std::chrono::milliseconds extra_wait{0};
};

/// The request for `inv`. Term arguments (send's TERM, kill's REASON, spawn's ARGS) are
/// checked here, so that bad term text is a usage error (exit 2) that sends nothing.
[[nodiscard]] result<request, ctl_error> make_request(const invocation& inv);

/// The human output of `inv`'s reply `result`.
[[nodiscard]] std::string render_result(const invocation& inv, const json& result,
                                        bool colour = false);

/// Prints `e` to `err` as "vigilctl: <code>: <message>" (daemon errors),
/// "vigilctl: usage: <message>" or "vigilctl: fatal: <message>", and, with `json`,
/// `{"error":{"code","message"}}` to `out`.
void report_error(const ctl_error& e, bool json, std::ostream& out, std::ostream& err);

/// Runs `inv` over `c`: sends its request, prints the result, then, for `logs -f` and
/// `events -f`, each event until the connection ends. Returns the exit status.
[[nodiscard]] int run_command(client& c, const invocation& inv, const global_options& opts,
                              std::ostream& out, std::ostream& err);

/// Connects to the socket the options and environment name.
[[nodiscard]] result<client, ctl_error> connect_client(const global_options& opts);

/// `connect_client`, then `run_command`. Returns the exit status.
[[nodiscard]] int run(const invocation& inv, const global_options& opts, std::ostream& out,
                      std::ostream& err);

} // namespace vigil::ctl
