// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

namespace vigil::daemon {

/// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...") to systemd's $NOTIFY_SOCKET, as
/// sd_notify(3) does; does nothing when vigild was not started by a Type=notify unit.
/// Thread-safe.
void notify_systemd(std::string_view state);

/// "RELOADING=1" with the MONOTONIC_USEC that systemd 253 asks for.
void notify_reloading();

} // namespace vigil::daemon
