// SPDX-License-Identifier: Apache-2.0
#pragma once

// An OS child's facts as `status` and `info` show them: found through its port, written as
// JSON (docs/os-workers.md, "Info").

#include "vigil/os/service.hpp"

#include "json_util.hpp"

#include <optional>

namespace vigil::daemon {

class daemon_state;

/// The OS child behind `p`, when `p` is a port.
std::optional<os::port_info> port_info_of(const daemon_state& st, std::optional<pid> p);

/// Adds a port's OS child to an `info` object: its process, its resources, its channel,
/// its checks and what its cgroup counts.
void add_port_info(json& out, const os::port_info& p);

} // namespace vigil::daemon
