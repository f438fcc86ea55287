// SPDX-License-Identifier: Apache-2.0
#include "vigil/os/reaper.hpp"

#include <signal.h>
#include <sys/prctl.h>

#include <cerrno>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

namespace vigil::os {
namespace {

struct registry {
  std::shared_mutex launching;
  std::mutex mutex;
  std::unordered_set<pid_t> owned;
  std::unordered_map<pid_t, siginfo_t> statuses;
};

registry& reg() {
  // Never destroyed: children may be reaped by threads that outlive static destruction.
  static auto* r = new registry;
  return *r;
}

/// Reaps `pid` if it is a zombie now; nullopt if it was not (or someone else reaped it).
std::optional<siginfo_t> reap_now(pid_t pid) {
  siginfo_t info{};
  for (;;) {
    int rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
    if (rc == 0) {
      return info.si_pid == pid ? std::optional<siginfo_t>(info) : std::nullopt;
    }
    if (errno != EINTR) {
      return std::nullopt;
    }
  }
}

} // namespace

result<void> become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) != 0) {
    return error{std::error_code(errno, std::system_category()),
                 "unable to become a child subreaper"};
  }
  return {};
}

launch_guard::launch_guard() : lock_(reg().launching) {}

void adopt(pid_t pid) {
  std::lock_guard lock(reg().mutex);
  reg().owned.insert(pid);
}

void disown(pid_t pid) {
  std::lock_guard lock(reg().mutex);
  reg().owned.erase(pid);
  reg().statuses.erase(pid);
}

std::optional<siginfo_t> take_status(pid_t pid) {
  std::lock_guard lock(reg().mutex);
  auto it = reg().statuses.find(pid);
  if (it == reg().statuses.end()) {
    return std::nullopt;
  }
  siginfo_t info = it->second;
  reg().statuses.erase(it);
  return info;
}

std::size_t owned_count() {
  std::lock_guard lock(reg().mutex);
  return reg().owned.size();
}

std::size_t reap_orphans() {
  auto& r = reg();
  std::unique_lock launches(r.launching);
  std::size_t reaped = 0;
  // Each turn reaps one zombie, so the loop ends once none is left; the bound only guards
  // against a kernel that keeps reporting a child it will not let us reap.
  for (int turn = 0; turn < 100000; ++turn) {
    siginfo_t info{};
    int rc = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc != 0) {
      if (errno == EINTR) {
        continue;
      }
      break; // ECHILD: no children at all
    }
    if (info.si_pid == 0) {
      break; // children, but none has exited
    }
    pid_t pid = info.si_pid;
    std::lock_guard lock(r.mutex);
    if (r.owned.count(pid) != 0) {
      // What the reactor would do: the rest of the leader's group goes with it, while the
      // zombie still pins the group id.
      ::kill(-pid, SIGKILL);
    }
    auto status = reap_now(pid);
    if (!status) {
      continue; // its owner reaped it in between
    }
    if (r.owned.count(pid) != 0) {
      r.statuses[pid] = *status;
    } else {
      ++reaped;
    }
  }
  return reaped;
}

} // namespace vigil::os
