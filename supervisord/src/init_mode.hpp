// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild as a container's init (PID 1, or `--init`): it never detaches, logs to stderr, reaps
// every orphan that comes to it (the SIGCHLD path of the event loop, `os::reap_orphans`, which
// leaves the statuses of its own OS children to their owners), and when the tree has stopped
// it ends whatever is left before it exits, since a PID 1 that exits takes the whole PID
// namespace with it and a subreaper that exits lets its orphans escape (docs/containers.md).

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <vector>

namespace vigil::daemon {

/// How long processes still alive after the tree has stopped get between SIGTERM and SIGKILL.
inline constexpr std::chrono::milliseconds leftover_grace{2000};

/// Whether this process is PID 1 of its PID namespace.
[[nodiscard]] bool is_pid1();

/// The pids whose parent is `parent`, read from /proc (any order).
[[nodiscard]] std::vector<pid_t> children_of(pid_t parent);

/// What `end_leftovers` did.
struct leftover_report {
  std::size_t terminated = 0; ///< processes sent SIGTERM
  std::size_t killed = 0;     ///< processes that were still alive after the grace: SIGKILL
  std::size_t reaped = 0;     ///< zombies reaped
};

/// Ends the processes that outlive the tree, once it has stopped and the OS workers' own
/// children are gone: as PID 1 every other process of the namespace (kill(-1)), otherwise the
/// children of this process (orphans it adopted as a subreaper, and those adopted while it
/// waits). Each gets SIGTERM, then SIGKILL if still alive after `grace`; every one is reaped.
/// Returns at once when there are none.
leftover_report end_leftovers(std::chrono::milliseconds grace = leftover_grace);

} // namespace vigil::daemon
