// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"

#include <sys/types.h>
#include <sys/wait.h>

#include <cstddef>
#include <optional>
#include <shared_mutex>

/// Reaping for a subreaper (or PID 1) that also owns children it must reap itself.
///
/// The OS-worker code reaps its own children through their pidfds (waitid(P_PIDFD)), so it
/// needs no SIGCHLD handler. A daemon that is a subreaper also inherits orphans (the
/// grandchildren of its workers, whose parents died) and must reap those, but a blanket
/// `waitpid(-1)` would steal its workers' exit statuses. `reap_orphans()` reaps everything
/// else: the process-wide registry below tells which pids are owned.
///
/// Daemon wiring: call `become_subreaper()` once at start, and `reap_orphans()` on every
/// SIGCHLD instead of a `waitpid(-1)` loop. The OS-worker reactor also calls it after each of
/// its own children exits, so orphans do not wait for the next SIGCHLD.
namespace vigil::os {

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are reparented to this process
/// instead of init, so that no grandchild escapes supervision.
[[nodiscard]] result<void> become_subreaper();

/// Reaps every exited child that the OS-worker code does not own, without blocking, and
/// returns how many it reaped. It peeks at each zombie with waitid(P_ALL, WNOWAIT): an
/// owned child found this way is reaped too, and its status kept for its owner
/// (`take_status`), so that the loop can see past it. Thread-safe; it waits for launches in
/// progress (a child is owned from its clone on).
std::size_t reap_orphans();

/// Holds off `reap_orphans` while a child is cloned and registered. Cheap and shared:
/// concurrent launches do not exclude each other.
class launch_guard {
public:
  launch_guard();

private:
  std::shared_lock<std::shared_mutex> lock_;
};

/// Marks `pid` as owned: `reap_orphans` will not treat it as an orphan. Call under a
/// `launch_guard`, right after the clone.
void adopt(pid_t pid);

/// Forgets `pid` once its owner has reaped it.
void disown(pid_t pid);

/// The status of an owned child that `reap_orphans` reaped, if it did; removes it. An owner
/// whose waitid(P_PIDFD) fails with ECHILD asks here.
[[nodiscard]] std::optional<siginfo_t> take_status(pid_t pid);

/// How many children are owned now (tests use it to check for leaks).
[[nodiscard]] std::size_t owned_count();

} // namespace vigil::os
