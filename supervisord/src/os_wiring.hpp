// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild's OS-process workers (docs/os-workers.md, "Daemon wiring"): the service that starts
// `command` and `mode = "process"` children, with their output going to the event store
// (`vigilctl logs`, `log` events) and, under systemd, to the journal tagged with the worker
// (journal.hpp, docs/systemd.md).

#include "vigil/config/config.hpp"
#include "vigil/os/service.hpp"

#include <memory>
#include <string>

namespace vigil::daemon {

class daemon_state;

/// The service for `st`'s runtime, loading the config's plugins into each vigil-worker,
/// logging to the config's `daemon.log_dir` under each child's path (root/web), and bound
/// to `router`, the runtime's `remote_send` hook, so that any process can send to a pid
/// inside a `mode = "process"` worker. `journal`: also send each output line to journald.
/// Create it after `st` and destroy it after `st.rt.shutdown()`.
[[nodiscard]] std::unique_ptr<os::service>
make_os_service(daemon_state& st, bool journal, std::shared_ptr<os::remote_router> router);

/// The path of the child that `spec` describes in `tree` ("root/jobs/web"): the child with its
/// id written where `spec` was, else the first one equal to it; the id alone when the config
/// has no such child (a reload replaced it, or the spec did not come from the file).
[[nodiscard]] std::string child_path(const config::config_tree& tree,
                                     const supervision::child_spec& spec);

} // namespace vigil::daemon
