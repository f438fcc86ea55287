// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/unique_fd.hpp"

#include "protocol_vocabulary.hpp"
#include "server.hpp"
#include "session.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace vigil::daemon {

/// One client of the control socket, as the event loop sees it.
struct server::connection {
  using clock = std::chrono::steady_clock;

  /// A session's reply among the output: where it ends in the connection's output stream,
  /// and its size, credited back to the channel once written.
  struct reply_mark {
    std::uint64_t end = 0;
    std::size_t size = 0;
  };

  std::uint64_t id = 0;
  unique_fd fd;
  ::uid_t uid = 0;
  /// Root or vigild's own user: not held to max_connections_per_user, and served from the
  /// connections kept in reserve.
  bool trusted = false;
  line_buffer in;
  std::deque<std::string> out; ///< lines waiting to be written, the first partly
  std::size_t out_pos = 0;     ///< bytes of out.front() already written
  std::size_t waiting = 0;     ///< bytes of `out` not yet written
  std::uint64_t appended = 0;  ///< bytes ever appended to `out`
  std::uint64_t written = 0;   ///< bytes ever written
  std::deque<reply_mark> replies;
  std::size_t reply_bytes = 0; ///< the sizes in `replies`, summed
  /// The largest reply the socket's send buffer was fitted to (fit_send_buffer); smaller
  /// ones fit the default buffer of any system.
  std::size_t send_buffer = 65536;
  clock::time_point accepted;
  /// When the socket last took output, or a reply began to wait: the slow-reader clock,
  /// which runs while `replies` is not empty.
  clock::time_point last_write;
  bool requested = false; ///< a whole request line has arrived
  std::shared_ptr<session_channel> channel;
  pid session;
  std::size_t pending = 0;
  bool reading = true;
  bool writing = false;
  /// The peer's input ended; the end is queued (input_done) once its lines are.
  bool eof = false;
  bool input_done = false;
  bool close_when_flushed = false;
  bool gone = false; ///< the peer closed; the fd is out of epoll
};

/// A client with this many requests queued is not read from, and no more of its lines are
/// parsed, until its session catches up.
inline constexpr std::size_t max_pending = 256;

} // namespace vigil::daemon
