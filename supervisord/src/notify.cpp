// SPDX-License-Identifier: Apache-2.0
#include "notify.hpp"

#include "vigil/common/unique_fd.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace vigil::daemon {

void notify_systemd(std::string_view state) {
  // The environment is read, never written, once threads run.
  const char* path = std::getenv("NOTIFY_SOCKET"); // NOLINT(concurrency-mt-unsafe)
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) {
    return;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) {
    return;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') {
    addr.sun_path[0] = '\0'; // the abstract namespace
  }
  unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return;
  }
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  (void)::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), addr_len);
}

void notify_reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  auto usec = static_cast<long long>(now.tv_sec) * 1'000'000LL + now.tv_nsec / 1000;
  notify_systemd("RELOADING=1\nSTATUS=reloading the config\nMONOTONIC_USEC="
                 + std::to_string(usec));
}

} // namespace vigil::daemon
