// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"

#include <sys/types.h>

#include <chrono>
#include <utility>

namespace vigil::ipc {

/// The other end of a channel, watched through a pidfd: a descriptor that becomes readable
/// (POLLIN) when the process exits, and that keeps naming that process even after its pid is
/// reused. Event loops may poll `fd()` directly.
///
/// Open it while the pid is known to be right: for a child, before it is reaped; for the
/// parent, from a pid the parent published itself (the channel header).
class peer {
public:
  /// No process: `exited()` is always false.
  peer() noexcept = default;

  /// Opens a pidfd for `pid` (pidfd_open, Linux 5.3). Errors: ESRCH when no such process
  /// exists, ENOSYS on older kernels, EMFILE.
  [[nodiscard]] static result<peer> open(pid_t pid);

  /// The process's pid, or 0 for no process.
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// The pidfd, or -1 for no process.
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

  [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }

  /// True once the process has exited (it may still await reaping). Never blocks.
  [[nodiscard]] bool exited() const noexcept { return wait_exit(std::chrono::nanoseconds(0)); }

  /// Waits at most `timeout` for the process to exit; true if it has.
  [[nodiscard]] bool wait_exit(std::chrono::nanoseconds timeout) const noexcept;

private:
  peer(unique_fd fd, pid_t pid) noexcept : fd_(std::move(fd)), pid_(pid) {}

  unique_fd fd_;
  pid_t pid_ = 0;
};

} // namespace vigil::ipc
