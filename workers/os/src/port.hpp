// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/os/service.hpp"
#include "vigil/runtime/context.hpp"
#include "vigil/supervision/spec.hpp"

#include "os_child.hpp"

#include <memory>

namespace vigil::os::detail {

/// Kills the child's group when the last copy goes. A port's setup holds it, so that the
/// group dies with the port's frame however the port ends, even when it is killed before
/// its body ever ran (the arguments die with the frame, or with the spawn request).
class port_lease {
public:
  explicit port_lease(std::shared_ptr<os_child> c) : child_(std::move(c)) {}

  port_lease(const port_lease&) = delete;
  port_lease& operator=(const port_lease&) = delete;
  ~port_lease();

private:
  std::shared_ptr<os_child> child_;
};

/// What a port process is given.
struct port_setup {
  std::shared_ptr<os_child> child;
  std::shared_ptr<port_lease> lease;
  pid parent; ///< the supervisor; its EXIT stops the port whatever the reason
  int stop_signal = 15;
  supervision::shutdown_policy shutdown;
};

/// The port process (docs/os-workers.md, "Ports"). It traps exits: an exit signal stops the
/// OS child (stop signal to the group, `shutdown` to go, SIGKILL) and ends the port with that
/// reason; the child's own end ends the port with the child's reason; `kill` ends the port
/// at once and its frame's destruction SIGKILLs the group. Every other message goes to the
/// worker as {:send, :main, message}, except {:port_info, from, ref} (answered with
/// {ref, info_map}) and routed deliveries from `service::route`.
task<> port_process(context& self, port_setup setup);

/// {:"$vigil_route", to, message}: what `service::route` sends a port.
[[nodiscard]] term make_route(pid to, const term& message);

/// The info of `c`, from /proc and the rings.
[[nodiscard]] port_info make_port_info(const os_child& c);

} // namespace vigil::os::detail
