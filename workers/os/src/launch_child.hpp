// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/os/launch.hpp"

#include <sys/types.h>

#include <cstddef>

namespace vigil::os::detail {

/// The most descriptors a child can be given (0, 1, 2 and a few extra).
inline constexpr std::size_t max_child_fds = 16;

/// Everything the child reads between clone and exec, prepared by the parent. The child
/// shares the parent's memory (CLONE_VM) while the parent waits, so it must not write here,
/// allocate, lock, or call anything but raw system calls.
struct child_plan {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const int* fds = nullptr; ///< fds[i] becomes descriptor i
  int nfds = 0;
  int err_fd = -1; ///< where a failure is reported as two ints: the step and errno
  const char* cwd = nullptr;
  int umask = -1;
  bool set_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;
  std::size_t ngroups = 0;
  const rlimit_setting* rlimits = nullptr;
  std::size_t nrlimits = 0;
  bool new_session = true;
  int pdeathsig = 0;
  pid_t parent = 0;
  /// cgroup.procs of the child's cgroup, to write "0" into first; -1 when the child was
  /// started in it (CLONE_INTO_CGROUP) or has none.
  int cgroup_procs_fd = -1;
  /// cgroup.procs of the child's v1 directories (a hybrid host's memory, pids, cpu), to write
  /// "0" into too.
  const int* v1_procs_fds = nullptr;
  std::size_t nv1_procs = 0;
};

/// The child's side, from clone to exec. Never returns: it execs or exits with 127 after
/// reporting the failing step.
[[noreturn]] void run_child(const child_plan& plan) noexcept;

} // namespace vigil::os::detail
