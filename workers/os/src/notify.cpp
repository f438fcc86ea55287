// SPDX-License-Identifier: Apache-2.0
// sd_notify's daemon side: the per-child datagram socket, reading a datagram with its
// sender's credentials, and parsing what it says.
#include "notify.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

namespace vigil::os::detail {
namespace {

std::optional<std::int64_t> parse_int(std::string_view v) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size()) {
    return std::nullopt;
  }
  return n;
}

std::string printable(std::string_view v) {
  std::string out(v.substr(0, max_status_text));
  for (char& ch : out) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      ch = '?';
    }
  }
  return out;
}

} // namespace

std::optional<notify_message> parse_notify(std::string_view datagram) {
  if (datagram.empty() || datagram.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  notify_message m;
  while (!datagram.empty()) {
    auto nl = datagram.find('\n');
    std::string_view line = datagram.substr(0, nl);
    datagram = nl == std::string_view::npos ? std::string_view() : datagram.substr(nl + 1);
    if (line.empty()) {
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return std::nullopt;
    }
    std::string_view key = line.substr(0, eq);
    std::string_view value = line.substr(eq + 1);
    if (key == "READY") {
      m.ready = m.ready || value == "1";
    } else if (key == "WATCHDOG") {
      m.watchdog = m.watchdog || value == "1";
    } else if (key == "STOPPING") {
      m.stopping = m.stopping || value == "1";
    } else if (key == "STATUS") {
      m.status = printable(value);
    } else if (key == "MAINPID") {
      if (auto n = parse_int(value); n && *n > 0) {
        m.main_pid = n;
      }
    } else if (key == "ERRNO") {
      if (auto n = parse_int(value); n && *n >= 0) {
        m.errno_value = n;
      }
    }
  }
  return m;
}

result<unique_fd> open_notify_socket(const std::string& path) {
  auto fail = [&](const char* what) {
    int err = errno;
    return error{std::error_code(err, std::system_category()),
                 std::string(what) + " " + path + ": " + std::strerror(err)};
  };
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return fail("unable to make the notify socket");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    return fail("unable to make the notify socket");
  }
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
    return fail("unable to set SO_PASSCRED on");
  }
  (void)::unlink(path.c_str()); // a socket left by an earlier child of the same node
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return fail("unable to bind");
  }
  // A child that drops to another user must still reach it; the directory is the daemon's
  // alone, and every datagram's sender is checked.
  (void)::chmod(path.c_str(), 0666);
  return fd;
}

std::optional<notify_datagram> receive_notify(int fd) {
  notify_datagram d;
  d.data.resize(max_notify_datagram);
  iovec iov{d.data.data(), d.data.size()};
  // Room for the credentials and a few descriptors, which are closed: a sender must not be
  // able to fill the daemon's descriptor table.
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(16 * sizeof(int))>
      control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n = -1;
  do {
    n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT | MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return std::nullopt;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) {
      continue;
    }
    if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
      ucred cred{};
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      d.sender = cred.pid;
    } else if (c->cmsg_type == SCM_RIGHTS) {
      std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int passed = -1;
        std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
        ::close(passed);
      }
    }
  }
  d.truncated = static_cast<std::size_t>(n) > d.data.size() || (msg.msg_flags & MSG_TRUNC) != 0;
  d.data.resize(std::min(static_cast<std::size_t>(n), d.data.size()));
  return d;
}

} // namespace vigil::os::detail
