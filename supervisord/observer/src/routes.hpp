// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the observer answers, by path (docs/observer.md, "Endpoints"). No HTTP library here:
// http_server.cpp parses and writes, this decides.

#include "http_server.hpp"

namespace vigil::observer {

[[nodiscard]] http_response route(daemon::daemon_state& st, const event_counters& counters,
                                  const http_request& req, access allowed);

} // namespace vigil::observer
