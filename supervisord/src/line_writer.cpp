// SPDX-License-Identifier: Apache-2.0
#include "line_writer.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace vigil::daemon {

line_writer::line_writer(int fd) : fd_(fd) {
  struct stat st {};

  socket_ = ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

bool line_writer::flush_rest() {
  while (!rest_.empty()) {
    ssize_t n = 0;
    if (socket_) {
      n = ::send(fd_, rest_.data(), rest_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 0) != 1 || (p.revents & POLLOUT) == 0) {
        return false;
      }
      n = ::write(fd_, rest_.data(), rest_.size());
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno != EAGAIN) {
      rest_.clear(); // the reader is gone (EPIPE) or the stream broke: nothing to keep
      return true;
    }
    if (n <= 0) {
      return false;
    }
    rest_.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

bool line_writer::write_line(std::string_view line) {
  if (!flush_rest()) {
    ++unreported_;
    return false;
  }
  if (unreported_ > 0) {
    rest_ = "<4>vigild: dropped " + std::to_string(unreported_) + " line"
            + (unreported_ == 1 ? "" : "s") + " of its log: the journal was not reading\n";
    unreported_ = 0;
  }
  rest_.append(line);
  if (line.empty() || line.back() != '\n') {
    rest_.push_back('\n');
  }
  // What the stream takes in part now is finished before the next line.
  (void)flush_rest();
  return true;
}

} // namespace vigil::daemon
