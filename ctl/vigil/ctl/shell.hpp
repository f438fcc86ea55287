// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/ctl/client.hpp"
#include "vigil/ctl/error.hpp"
#include "vigil/ctl/json.hpp"
#include "vigil/ctl/shell_parse.hpp"

#include <chrono>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::ctl {

/// Reads one line without its newline; nullopt at the end of input. `prompt` is empty when
/// none should be shown. A reader returns `cancelled_line` when the user pressed Ctrl-C.
using line_reader = std::function<std::optional<std::string>(const std::string& prompt)>;

/// What a `line_reader` returns for Ctrl-C: the shell drops the pending input, as iex does.
inline const std::string cancelled_line = "\x03";

/// How a shell session runs.
struct shell_options {
  /// A terminal: show a banner and prompts, and end with status 0 whatever lines failed.
  bool interactive = false;
  /// Print each reply's `result` as one JSON line instead of iex's output.
  bool json = false;
  /// How long to wait for a reply, beyond any wait the line asks for (`receive 1000`).
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  /// Opens a new connection, for when the session process has died
  /// (`Process.exit(self, :exit)`); without it, that ends the shell.
  std::function<result<client, ctl_error>()> reconnect;
};

/// What a line prints (`display`, may span lines, ends in a newline) and the value a
/// variable assigned by it is bound to (`value`, one line of term text).
struct shell_output {
  std::string display;
  std::string value;
};

/// How iex would print the value of `action`, given the daemon's reply `result`.
[[nodiscard]] shell_output present_reply(const shell_action& action, const json& result);

/// One `vigilctl shell`: one connection, so one session process and a stable `self`, plus
/// the variables that lines bind. Prints results to `out` and errors, iex-style
/// ("** (not_found) no worker named 'ech'"), to `err`.
class shell_session {
public:
  shell_session(client c, shell_options opts, std::ostream& out, std::ostream& err);

  /// Asks the daemon who this session is (`hello`); call before `eval`.
  [[nodiscard]] result<void, ctl_error> start();

  /// Carries out one line. Returns false once the shell should end: `exit`, or the
  /// connection was lost.
  bool eval(std::string_view line);

  /// Variables and `self`.
  [[nodiscard]] const shell_context& context() const noexcept { return ctx_; }

  /// The `hello` result: daemon name and version, protocol, self.
  [[nodiscard]] const json& hello() const noexcept { return hello_; }

  /// What Tab may complete `prefix` to: the shell's functions, bound variables, `self`,
  /// registered names (`:echo`), worker ids and the pids of running workers. Asks the
  /// daemon, so only a terminal's completion calls it.
  [[nodiscard]] std::vector<std::string> completions(std::string_view prefix);

  /// Whether the session shows prompts (stdin is a terminal).
  [[nodiscard]] bool interactive() const noexcept { return opts_.interactive; }

  /// 3 or 4 after the connection was lost or garbled; else 1 if a line failed and the
  /// session is not interactive; else 0.
  [[nodiscard]] int exit_status() const noexcept;

private:
  bool perform(const shell_action& action);
  bool exit_self(const shell_action& action);
  bool fail_connection(const ctl_error& e);
  void show(const shell_action& action, const shell_output& output);

  client client_;
  shell_options opts_;
  std::ostream& out_;
  std::ostream& err_;
  shell_context ctx_;
  json hello_;
  int lost_status_ = 0;
  bool failed_ = false;
};

/// The read-eval-print loop: a banner and prompts when interactive, lines until `exit` or
/// the end of input. Returns `session.exit_status()`.
[[nodiscard]] int run_shell(shell_session& session, const line_reader& read, std::ostream& out);

} // namespace vigil::ctl
