// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild's OS-process workers (docs/os-workers.md, "Daemon wiring"): the service that starts
// `command` and `mode = "process"` children, with their output going to the event store
// (`vigilctl logs`, `log` events) and, under systemd, to the journal tagged with the worker
// (journal.hpp, docs/systemd.md).

#include "vigil/os/service.hpp"

#include <memory>

namespace vigil::daemon {

class daemon_state;

/// The service for `st`'s runtime, loading the config's plugins into each vigil-worker.
/// `journal`: also send each output line to journald. Create it after `st` and destroy it
/// after `st.rt.shutdown()`.
[[nodiscard]] std::unique_ptr<os::service> make_os_service(daemon_state& st, bool journal);

} // namespace vigil::daemon
