// SPDX-License-Identifier: Apache-2.0
// The child's half of a launch. It runs on a borrowed stack, in the parent's memory, while
// the parent's thread is suspended (CLONE_VFORK): only raw system calls are allowed here.
// glibc wrappers are avoided because sanitizer interceptors and glibc's setxid broadcast
// (setuid signals every thread of the *parent*) must not run in this state, and the functions
// are excluded from ASan/UBSan instrumentation, which would write shadow memory for a stack
// that is not a thread's.
#include "launch_child.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#define VIGIL_CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

namespace vigil::os::detail {
namespace {

/// The kernel's struct sigaction for rt_sigaction (not glibc's, which is larger).
struct kernel_sigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  unsigned long mask;
};

constexpr int kernel_nsig = 64;

VIGIL_CHILD_CODE long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0) noexcept {
  return ::syscall(n, a, b, c, d);
}

[[noreturn]] VIGIL_CHILD_CODE void fail(const child_plan& p, int err_fd,
                                        launch_step step) noexcept {
  int report[2] = {static_cast<int>(step), errno};
  (void)sys(SYS_write, err_fd, reinterpret_cast<long>(report), sizeof report);
  (void)sys(SYS_exit_group, 127);
  (void)p;
  __builtin_unreachable();
}

/// Every signal back to its default action, so that none of the parent's handlers can run
/// in the child and ignored signals (vigild ignores SIGPIPE) are not ignored by the program.
VIGIL_CHILD_CODE void reset_signals() noexcept {
  kernel_sigaction dfl;
  dfl.handler = nullptr; // SIG_DFL
  dfl.flags = 0;
  dfl.restorer = nullptr;
  dfl.mask = 0;
  for (int sig = 1; sig <= kernel_nsig; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      (void)sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0, 8);
    }
  }
}

/// Places plan.fds[i] at descriptor i and marks every descriptor above them close-on-exec.
/// Returns the error descriptor, moved above the placed ones.
VIGIL_CHILD_CODE int place_fds(const child_plan& p) noexcept {
  int err = p.err_fd;
  const int n = p.nfds;
  if (err < n) {
    err = static_cast<int>(sys(SYS_fcntl, err, F_DUPFD_CLOEXEC, n));
    if (err < 0) {
      fail(p, p.err_fd, launch_step::fds);
    }
  }
  int moved[max_child_fds];
  for (int i = 0; i < n; ++i) {
    moved[i] = static_cast<int>(sys(SYS_fcntl, p.fds[i], F_DUPFD_CLOEXEC, n));
    if (moved[i] < 0) {
      fail(p, err, launch_step::fds);
    }
  }
  for (int i = 0; i < n; ++i) {
    if (sys(SYS_dup3, moved[i], i, 0) < 0) {
      fail(p, err, launch_step::fds);
    }
  }
  if (sys(SYS_close_range, n, ~0L & 0xffffffffL, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = n; fd < 65536; ++fd) { // kernels before 5.11
      (void)sys(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
    }
  }
  return err;
}

VIGIL_CHILD_CODE void set_ids(const child_plan& p, int err) noexcept {
  if (sys(SYS_setgroups, static_cast<long>(p.ngroups), reinterpret_cast<long>(p.groups)) < 0) {
    fail(p, err, launch_step::groups);
  }
  if (sys(SYS_setresgid, p.gid, p.gid, p.gid) < 0) {
    fail(p, err, launch_step::setgid);
  }
  if (sys(SYS_setresuid, p.uid, p.uid, p.uid) < 0) {
    fail(p, err, launch_step::setuid);
  }
}

VIGIL_CHILD_CODE void set_limits(const child_plan& p, int err) noexcept {
  for (std::size_t i = 0; i < p.nrlimits; ++i) {
    struct rlimit lim;
    lim.rlim_cur = p.rlimits[i].soft;
    lim.rlim_max = p.rlimits[i].hard;
    if (sys(SYS_prlimit64, 0, p.rlimits[i].resource, reinterpret_cast<long>(&lim), 0) < 0) {
      fail(p, err, launch_step::rlimit);
    }
  }
}

} // namespace

VIGIL_CHILD_CODE void run_child(const child_plan& p) noexcept {
  if (p.cgroup_procs_fd >= 0) {
    static const char zero[] = "0";
    if (sys(SYS_write, p.cgroup_procs_fd, reinterpret_cast<long>(zero), 1) != 1) {
      fail(p, p.err_fd, launch_step::cgroup);
    }
  }
  for (std::size_t i = 0; i < p.nv1_procs; ++i) {
    static const char zero[] = "0";
    if (sys(SYS_write, p.v1_procs_fds[i], reinterpret_cast<long>(zero), 1) != 1) {
      fail(p, p.err_fd, launch_step::cgroup);
    }
  }
  reset_signals();
  if (p.new_session && sys(SYS_setsid) < 0) {
    fail(p, p.err_fd, launch_step::setsid);
  }
  int err = place_fds(p);
  if (p.umask >= 0) {
    (void)sys(SYS_umask, p.umask);
  }
  if (p.cwd != nullptr && sys(SYS_chdir, reinterpret_cast<long>(p.cwd)) < 0) {
    fail(p, err, launch_step::chdir);
  }
  set_limits(p, err);
  if (p.set_ids) {
    set_ids(p, err);
  }
  // After the credentials: changing them clears the parent-death signal.
  if (p.pdeathsig != 0) {
    if (sys(SYS_prctl, PR_SET_PDEATHSIG, p.pdeathsig) < 0) {
      fail(p, err, launch_step::pdeathsig);
    }
    if (sys(SYS_getppid) != p.parent) {
      (void)sys(SYS_exit_group, 127); // the parent died before the signal was armed
    }
  }
  unsigned long none = 0;
  (void)sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, 8);
  (void)sys(SYS_execve, reinterpret_cast<long>(p.path), reinterpret_cast<long>(p.argv),
            reinterpret_cast<long>(p.envp));
  fail(p, err, launch_step::exec);
}

} // namespace vigil::os::detail
