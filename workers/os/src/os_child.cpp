// SPDX-License-Identifier: Apache-2.0
#include "os_child.hpp"

#include <signal.h>

namespace vigil::os::detail {

bool os_child::signal_group(int sig) {
  std::lock_guard lock(mutex);
  if (sig == SIGKILL && cgroup_dir) {
    (void)cgroup_tree::kill_all(cgroup_dir.get());
  }
  if (reaped) {
    return false;
  }
  // The child leads its own session and group (setsid), so the group id is its pid.
  return ::kill(-os_pid, sig) == 0 || ::kill(os_pid, sig) == 0;
}

void os_child::fail_channel(std::string why) {
  {
    std::lock_guard lock(mutex);
    if (!channel_error) {
      channel_error = std::move(why);
    }
  }
  signal_group(SIGKILL);
}

void os_child::fail_health(std::string why) {
  {
    std::lock_guard lock(mutex);
    if (!unhealthy) {
      unhealthy = std::move(why);
    }
  }
  signal_group(SIGKILL);
}

std::optional<std::string> os_child::health_failure() {
  std::lock_guard lock(mutex);
  return unhealthy;
}

std::optional<std::string> os_child::channel_failure() {
  std::lock_guard lock(mutex);
  return channel_error;
}

std::uint64_t os_child::depth(const ipc::ring_header* h) const {
  if (h == nullptr) {
    return 0;
  }
  auto head = h->head.load(std::memory_order_acquire);
  auto tail = h->tail.load(std::memory_order_acquire);
  return head >= tail ? head - tail : 0;
}

} // namespace vigil::os::detail
