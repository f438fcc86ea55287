// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/os/service.hpp"
#include "vigil/supervision/supervisor.hpp"
#include "vigil/workers/kind_registry.hpp"

namespace vigil::workers {

/// The child factory a daemon gives its supervisors: it starts a worker spec's kind from
/// `kinds` (which must outlive the tree) and registers the new process under the spec's
/// name, if it has one, so the name follows the child across restarts.
///
/// Errors name the child and the cause: an unknown kind (listing the known ones), a bad
/// argument, a taken name, or (without an OS-worker service) mode "process" or "command".
[[nodiscard]] supervision::child_factory make_child_factory(const kind_registry& kinds);

/// The same, with OS-process children too: `mode = "process"` (the kind runs in a
/// vigil-worker) and `command` children start through `os` (os/service.hpp), which must
/// outlive the tree. Their pid is their port's; the spec's name registers the port.
[[nodiscard]] supervision::child_factory make_child_factory(const kind_registry& kinds,
                                                            os::service& os);

} // namespace vigil::workers
