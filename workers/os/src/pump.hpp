// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/runtime/runtime.hpp"

#include "os_child.hpp"

#include <chrono>
#include <functional>

namespace vigil::os::detail {

/// What a pump needs from its service.
struct pump_hooks {
  runtime* rt = nullptr;
  /// Delivers to a pid of another OS worker's node.
  std::function<void(pid to, term message)> route;
  /// The daemon's own processes, which no worker may reach (service_options::is_protected).
  std::function<bool(pid)> is_protected;
  /// How long the child may take to attach; a vigil-worker that misses it is killed. For a
  /// command (which may never speak the channel) the pump waits as long as the child runs.
  std::chrono::nanoseconds attach_timeout;
  bool must_attach = false;
};

/// The body of a child's pump thread: waits for the child's handshake, then reads its frames
/// and delivers them ({:send, to, message} to `to` if the child may send there, see
/// capabilities.hpp; {:exit, reason} kept for the reactor)
/// until `c.pump_stop`, which the reactor sets once the child is reaped. A frame that is
/// garbage, or no envelope, breaks the channel and kills the child (os_child::fail_channel).
/// `c` must outlive the thread: the reactor joins it before letting go.
void run_pump(os_child& c, const pump_hooks& hooks);

} // namespace vigil::os::detail
