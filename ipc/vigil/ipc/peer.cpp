// SPDX-License-Identifier: Apache-2.0
#include "vigil/ipc/peer.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

namespace vigil::ipc {

result<peer> peer::open(pid_t pid) {
  // glibc 2.36 has no pidfd_open wrapper in <sys/pidfd.h> on every target; the syscall is
  // stable ABI.
  long fd = ::syscall(SYS_pidfd_open, pid, 0U);
  if (fd < 0) {
    return error{std::error_code(errno, std::system_category()),
                 "unable to open a pidfd for process " + std::to_string(pid)};
  }
  return peer(unique_fd(static_cast<int>(fd)), pid);
}

bool peer::wait_exit(std::chrono::nanoseconds timeout) const noexcept {
  if (!fd_.valid()) {
    return false;
  }
  constexpr auto longest =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::hours(24 * 365));
  auto deadline = std::chrono::steady_clock::now() + std::min(timeout, longest);
  for (;;) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_.get(), POLLIN, 0};
    int ms = left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
    int n = ::poll(&p, 1, ms);
    if (n > 0) {
      return true;
    }
    if (n == 0 || errno != EINTR) {
      return false;
    }
  }
}

} // namespace vigil::ipc
