// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace vigil::ctl {

/// vigilctl's exit codes, as docs/vigilctl.md and docs/protocol.md document them.
enum class exit_code : int {
  ok = 0,             ///< the command succeeded
  daemon_error = 1,   ///< the daemon answered with an error (`not_found`, `failed`, ...)
  usage = 2,          ///< bad arguments: nothing was sent, or the shell rejected a line
  cannot_connect = 3, ///< no daemon to talk to: not running, no permission, contact lost
  protocol_error = 4, ///< the daemon's reply was not understood
};

/// Why a command failed.
///
/// `code` is the daemon's error code when the daemon answered (`not_found`, `failed`, ...),
/// else one of vigilctl's own: `usage`, `cannot_connect`, `protocol_error`. `message` is
/// for humans, s6-style: "unable to connect to /run/vigil/control.sock: No such file or
/// directory".
struct ctl_error {
  exit_code exit = exit_code::protocol_error;
  std::string code;
  std::string message;

  [[nodiscard]] int exit_status() const noexcept { return static_cast<int>(exit); }
};

/// A usage error (exit 2) with `message`.
inline ctl_error usage_error(std::string message) {
  return {exit_code::usage, "usage", std::move(message)};
}

/// A failure to reach or keep in touch with the daemon (exit 3).
inline ctl_error connect_error(std::string message) {
  return {exit_code::cannot_connect, "cannot_connect", std::move(message)};
}

/// A reply that does not follow docs/protocol.md (exit 4).
inline ctl_error protocol_error(std::string message) {
  return {exit_code::protocol_error, "protocol_error", std::move(message)};
}

} // namespace vigil::ctl
