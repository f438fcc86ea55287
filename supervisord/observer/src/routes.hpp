// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the observer answers, by path (docs/observer.md, "Endpoints"). No HTTP library here:
// http_server.cpp parses and writes, this decides.

#include "http_server.hpp"

#include <functional>

namespace vigil::observer {

[[nodiscard]] http_response route(daemon::daemon_state& st, const event_counters& counters,
                                  const http_request& req, access allowed);

/// Called once with the answer, from any thread.
using reply_fn = std::function<void(http_response)>;

/// The endpoints answered by one of the daemon's own commands (the restart, stop and start
/// buttons, the process page's info and logs): true when `req` is for one of them, and
/// `reply` is then called once, at once or later from the command's process. False, and
/// `reply` untouched, for every other path.
[[nodiscard]] bool route_command(daemon::daemon_state& st, const http_request& req, access allowed,
                                 const reply_fn& reply);

} // namespace vigil::observer
