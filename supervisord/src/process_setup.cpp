// SPDX-License-Identifier: Apache-2.0
#include "process_setup.hpp"

#include <fcntl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

namespace vigil::daemon {

result<unique_fd> make_signal_fd() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int s : {SIGHUP, SIGTERM, SIGINT, SIGCHLD}) {
    ::sigaddset(&set, s);
  }
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return error{std::error_code(errno, std::generic_category()), "unable to block signals"};
  }
  (void)::signal(SIGPIPE, SIG_IGN);
  unique_fd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd) {
    return error{std::error_code(errno, std::generic_category()), "unable to make a signalfd"};
  }
  return fd;
}

std::optional<int> detach(unique_fd& ready) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return 111;
  }
  ::pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return 111;
  }
  if (child > 0) {
    ::close(fds[1]);
    unsigned char status = 111;
    ssize_t n = 0;
    do {
      n = ::read(fds[0], &status, 1);
    } while (n < 0 && errno == EINTR);
    ::close(fds[0]);
    if (n != 1 || status != 0) {
      std::fputs("vigild: the daemon did not start; see its log\n", stderr);
    }
    return n == 1 ? status : 111;
  }
  ::close(fds[0]);
  ready.reset(fds[1]);
  (void)::setsid();
  (void)::chdir("/");
  return std::nullopt;
}

void report_start(unique_fd& ready, int status) {
  if (!ready) {
    return;
  }
  auto byte = static_cast<unsigned char>(status);
  (void)::write(ready.get(), &byte, 1);
  ready.reset();
  if (status != 0) {
    return;
  }
  unique_fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null) {
    for (int fd : {0, 1, 2}) {
      (void)::dup2(null.get(), fd);
    }
  }
}

} // namespace vigil::daemon
