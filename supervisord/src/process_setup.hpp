// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"

#include <optional>

namespace vigil::daemon {

/// Blocks SIGHUP, SIGTERM, SIGINT and SIGCHLD in the calling thread (before any other thread
/// starts, so that all inherit the mask), ignores SIGPIPE, and returns a signalfd for the
/// four: the event loop reads signals, no handler ever runs.
[[nodiscard]] result<unique_fd> make_signal_fd();

/// Detaches into the background: forks, and the parent waits until the child reports its
/// start and exits with the child's status. Returns that status in the parent; in the
/// child, nullopt, with `ready` set to the pipe to report through. Call it before threads.
[[nodiscard]] std::optional<int> detach(unique_fd& ready);

/// Tells the waiting parent of a detached vigild how the start went (0: ready), and on
/// success points stdin, stdout and stderr at /dev/null. Does nothing without a pipe.
void report_start(unique_fd& ready, int status);

} // namespace vigil::daemon
