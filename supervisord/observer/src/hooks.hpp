// SPDX-License-Identifier: Apache-2.0
#pragma once

// Event hooks (docs/observer.md, "Hooks"): on child_failed, child_restarted and
// supervisor_gave_up, each [[hook]] of the running config that asks for the event runs a
// command with the event's JSON on stdin, or POSTs it to a loopback URL. They run on the
// runner's own thread, at most max_running at once, each killed (or abandoned) at its
// timeout; what a hook does never reaches the tree: a failure is a line in the log.

#include <memory>
#include <string>

namespace vigil::daemon {
class daemon_state;
}

namespace vigil::observer {

class hook_runner {
public:
  /// Hooks past this many running at once are skipped, with a warning.
  static constexpr std::size_t max_running = 16;

  explicit hook_runner(daemon::daemon_state& st);
  hook_runner(const hook_runner&) = delete;
  hook_runner& operator=(const hook_runner&) = delete;
  /// Kills the hooks still running and joins the thread.
  ~hook_runner();

  /// An event of the stream; any thread, returns at once.
  void on_event(std::string event_json);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace vigil::observer
