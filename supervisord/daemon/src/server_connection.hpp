// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/unique_fd.hpp"
#include "vigil/daemon/framing.hpp"

#include "server.hpp"
#include "session.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace vigil::daemon {

/// One client of the control socket, as the event loop sees it.
struct server::connection {
  std::uint64_t id = 0;
  unique_fd fd;
  line_buffer in;
  std::string out;
  std::size_t out_pos = 0;
  std::shared_ptr<session_channel> channel;
  pid session;
  std::size_t pending = 0;
  bool reading = true;
  bool writing = false;
  bool input_done = false;
  bool close_when_flushed = false;
  bool gone = false; ///< the peer closed; the fd is out of epoll
};

/// A client with this many requests queued is not read from until its session catches up.
inline constexpr std::size_t max_pending = 256;

} // namespace vigil::daemon
