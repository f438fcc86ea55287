// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild as a library: `run_daemon` is the whole program once its options are parsed
// (src/main.cpp does only that). See docs/vigild.md for the options, signals, exit codes,
// logging and the control socket.

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::daemon {

/// vigild's exit codes (s6's convention; docs/vigild.md).
enum exit_code : int {
  exit_ok = 0,          ///< a clean stop
  exit_permanent = 100, ///< a usage or config error: starting again will not help
  exit_temporary = 111, ///< a system failure (socket in use, out of resources, ...)
};

class daemon_state;

/// What a service throws when its config can never work, e.g. a path another user controls:
/// vigild logs it and exits with exit_permanent.
struct service_refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A service vigild runs beside its control server, built on its state (the observer,
/// supervisord/observer/). Called once the state exists and before the tree starts; the
/// object it returns is destroyed after the control server stops and before the runtime
/// does. A service that cannot start throws std::runtime_error: vigild logs it and exits
/// with exit_temporary (exit_permanent for service_refused). The daemon library knows none of its
/// services: vigild's main adds them, so that they depend on the daemon and not the other way
/// round.
using service_starter = std::function<std::shared_ptr<void>(daemon_state&)>;

/// vigild's command line.
struct daemon_options {
  std::string config_path = "/etc/vigil/vigil.toml";
  /// Validate the config, print the tree and exit.
  bool check_config = false;
  /// Stay in the foreground and log to stderr; otherwise vigild detaches, unless systemd or
  /// a container (PID 1) started it.
  bool foreground = false;
  /// The control socket, over the config's `daemon.socket` and the default.
  std::optional<std::string> socket;
  /// Also log to this file.
  std::optional<std::string> log_file;
  /// Act as a container's init even when not PID 1: stay in the foreground, and end the
  /// processes left after the tree stops (docs/containers.md). Implied as PID 1.
  bool init = false;
  /// As root, load a config and plugins and run programs that others than root could
  /// change (itself or through a directory on its way); refused without it
  /// (docs/security.md, "Paths and files as root").
  bool insecure_paths = false;
  /// Started in order, stopped in reverse order.
  std::vector<service_starter> services;
};

/// Runs vigild and returns its exit code.
[[nodiscard]] int run_daemon(const daemon_options& options);

} // namespace vigil::daemon
