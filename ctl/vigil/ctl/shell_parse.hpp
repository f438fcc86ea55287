// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/ctl/json.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::ctl {

/// What one line of `vigilctl shell` asks for.
enum class shell_op : std::uint8_t {
  nothing, ///< an empty line or a comment
  value,   ///< print `value`: a term, a variable, `self`
  call,    ///< send `cmd`/`args` to the daemon, print the reply in `style`
  sleep,   ///< `Process.sleep(ms)`: wait `duration`, print `:ok`
  help,    ///< `h`, `help`: print the shell's help
  quit,    ///< `exit`, or end of input
};

/// How the shell prints a daemon reply, as iex prints the matching expression's value.
enum class reply_style : std::uint8_t {
  sent,       ///< `send`: the message sent (`value`)
  flush,      ///< each message, then `:ok`
  pid,        ///< `spawn`: the new pid
  alive,      ///< `Process.alive?`: true or false
  exited,     ///< `Process.exit`: true
  info,       ///< `Process.info(pid)`: a keyword list, or nil for a dead pid
  info_key,   ///< `Process.info(pid, :key)`: `{:key, value}`
  received,   ///< `receive`: the message, or `:timeout`
  tree,       ///< `:observer.start`: the tree, then `:ok`
  registered, ///< `Process.registered`: a list of atoms
  whereis,    ///< `Process.whereis(:name)`: the pid or nil (`value` is the name)
};

/// One line, translated: pure data that the shell session then carries out.
struct shell_action {
  shell_op op = shell_op::nothing;
  /// For `call`: the protocol command and its arguments.
  std::string cmd;
  json args = json::object();
  reply_style style = reply_style::sent;
  /// For `value`: the text to print; `send`: the message; `info_key`: the key;
  /// `whereis`: the name.
  std::string value;
  /// For `sleep`: how long; for `receive`: the timeout the daemon waits before replying.
  std::chrono::milliseconds duration{0};
  /// The variable the line assigns (`pid = spawn(:echo)`), or empty.
  std::string bind;
  /// `Process.exit(self, reason)`: the session process itself is the target.
  bool exits_self = false;
};

/// The shell's state that a line can refer to.
struct shell_context {
  /// Bound variables and the term text of their values.
  std::map<std::string, std::string, std::less<>> variables;
  /// The session process's pid, `#PID<0.42.0>`.
  std::string self;
};

/// How long `receive` without a timeout waits.
inline constexpr std::chrono::milliseconds default_receive_timeout{5000};

/// Translates one line of the shell into an action, without side effects. Accepts iex's
/// spelling (`send(pid, {self, :ok})`, `Process.alive? pid`, `flush`, `:observer.start`),
/// assignments (`pid = spawn(:echo)`), any term, a pasted `iex(3)> ` prompt and `#`
/// comments. Variables and `self` are replaced in terms before they are sent. The error is
/// what iex would print after `** `: "(SyntaxError) 1:8: expected '}'".
[[nodiscard]] result<shell_action, std::string> translate_line(std::string_view line,
                                                               const shell_context& ctx);

/// Splits `text` at the commas that are outside brackets and quotes, trimming each part.
/// An empty `text` has no parts. Fails on unbalanced brackets or an unclosed quote.
[[nodiscard]] result<std::vector<std::string>, std::string> split_arguments(std::string_view text);

/// True when `text` is an unfinished expression that the next line may complete, as iex
/// continues with `...(n)>`: a bracket, brace or parenthesis left open, or a quote not
/// closed. A closer without its opener is finished (and an error for `translate_line`).
[[nodiscard]] bool needs_more_input(std::string_view text);

/// The shell's help text, listing what `translate_line` understands.
[[nodiscard]] std::string shell_help();

/// The functions the shell knows (`self`, `send`, `Process.info`, ...), for completion.
[[nodiscard]] std::vector<std::string> builtin_names();

} // namespace vigil::ctl
