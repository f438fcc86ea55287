// SPDX-License-Identifier: Apache-2.0
#pragma once

// The observer: vigild's HTTP listener (web page, pushed events, Prometheus metrics) and its
// event hooks, as a service of the daemon (docs/observer.md).

#include <memory>

namespace vigil::daemon {
class daemon_state;
}

namespace vigil::observer {

/// Starts what the config's [observer] and [[hook]] tables ask for: nothing (nullptr) when
/// neither is set. Throws std::runtime_error when the listener cannot bind. The result
/// stops it all when destroyed.
[[nodiscard]] std::shared_ptr<void> start(daemon::daemon_state& st);

} // namespace vigil::observer
