// SPDX-License-Identifier: Apache-2.0
// The event loop's side of a connection: reading and framing requests, queueing them to the
// session, writing replies without blocking, and closing.
#include "event_store.hpp"
#include "protocol_vocabulary.hpp"
#include "server.hpp"
#include "server_connection.hpp"
#include "state.hpp"

#include <spdlog/spdlog.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>

namespace vigil::daemon {
namespace {

constexpr std::size_t read_chunk = 65536;

/// The most a connection's socket is asked to buffer for one reply.
constexpr std::size_t max_socket_buffer = std::size_t{4} << 20;

/// Lets the socket take a reply of `bytes` in one write, within max_socket_buffer and what
/// the system allows (net.core.wmem_max; root may go past it). With the default 208 KiB a
/// 1.6 MB status went out in eight writes, each waiting for the client to read and the loop
/// to wake again. The kernel holds only what is queued, so a large limit costs nothing idle.
void fit_send_buffer(int fd, std::size_t bytes) {
  int current = 0;
  socklen_t len = sizeof current;
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &current, &len) != 0 || current < 0
      || static_cast<std::size_t>(current) >= bytes) {
    return;
  }
  const int want = static_cast<int>(std::min(bytes, max_socket_buffer));
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
  }
}

} // namespace

void server::on_readable(connection& c) {
  if (!c.reading) {
    return;
  }
  std::size_t queued_before = c.pending;
  std::string chunk(read_chunk, '\0');
  // A bounded amount per wake-up, so one busy client cannot starve the others; and no more
  // once max_pending requests wait: the rest stays in the socket (queue_lines).
  for (int round = 0; round < 4 && c.reading && !c.input_done && c.pending < max_pending; ++round) {
    ssize_t n = ::read(c.fd.get(), chunk.data(), chunk.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      break;
    }
    if (n < 0) {
      drop(c.id);
      return;
    }
    if (n == 0) {
      // End of input: answer what was asked, then close.
      c.eof = true;
      queue_lines(c);
      break;
    }
    c.in.append(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    queue_lines(c);
  }
  if (c.pending != queued_before) {
    st_.rt.send(c.session, session_wake());
  }
  watch(c);
}

void server::peer_gone(connection& c) {
  // The client closed both directions: nobody can read a reply. What it sent still runs
  // (`printf '{"cmd":"shutdown"}\n' | nc -U` must work); then the connection goes. The
  // peer can add nothing more, so what its socket still holds (bounded by its buffer) is
  // taken now; its lines are queued as the session catches up (handle, post_kind::done).
  if (!c.input_done) {
    std::string chunk(read_chunk, '\0');
    for (;;) {
      ssize_t n = ::read(c.fd.get(), chunk.data(), chunk.size());
      if (n > 0) {
        c.in.append(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno != EAGAIN) {
        drop(c.id); // reset: nothing it sent can be trusted to be whole
        return;
      }
      break;
    }
    c.eof = true;
    queue_lines(c);
  }
  c.gone = true;
  c.out.clear();
  c.out_pos = 0;
  c.waiting = 0;
  c.replies.clear();
  c.reply_bytes = 0;
  // Nothing will be read any more: the session must not wait for its replies to go out.
  c.channel->unthrottle();
  st_.rt.send(c.session, session_wake());
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
}

void server::queue_lines(connection& c) {
  // At most max_pending requests wait for the session: a line is parsed only when there is
  // room. Each queued request costs some hundred bytes and a parse on this loop, so taking
  // every line of a read at once let one client's 256 KiB of empty lines become 262,144
  // requests: about 90 MB held per connection and the loop busy parsing them while every
  // other client waited. The rest waits as bytes, in `in` and in the socket.
  while (c.pending < max_pending) {
    auto line = c.in.next_line();
    if (!line) {
      break;
    }
    c.requested = true;
    auto parsed = parse_request(*line);
    if (parsed) {
      c.channel->push({std::move(*parsed), std::nullopt, false});
    } else {
      const auto& e = parsed.error();
      c.channel->push({request{}, reply_error(e.id, e.code, e.message), false});
    }
    ++c.pending;
  }
  if (c.input_done || c.pending >= max_pending) {
    return; // more lines may wait: queued as the session catches up
  }
  if (c.in.overflowed()) {
    c.channel->push({request{},
                     reply_error("null", error_code::too_large,
                                 "a request line may be at most 65536 bytes; closing"),
                     true});
    ++c.pending;
    c.input_done = true;
  } else if (c.eof) {
    // Every whole line is queued: the end of input closes the connection after them.
    c.channel->push({request{}, std::string(), true});
    ++c.pending;
    c.input_done = true;
  }
}

void server::watch(connection& c) {
  if (c.gone) {
    return;
  }
  bool want_read = !c.input_done && !c.close_when_flushed && c.pending < max_pending;
  bool want_write = c.waiting > 0;
  if (want_read == c.reading && want_write == c.writing) {
    return;
  }
  c.reading = want_read;
  c.writing = want_write;
  epoll_event ev{};
  ev.events = (want_read ? EPOLLIN : 0U) | (want_write ? EPOLLOUT : 0U);
  ev.data.u64 = c.id;
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

void server::append_output(connection& c, std::string text, bool reply) {
  if (c.gone) {
    return;
  }
  // Replies are bounded by the session, which waits while they pile up; events and log
  // lines come whether the client reads or not, and are bounded here. As a reply's, a line's
  // cost is what it holds (reply_cost): its text, and its string and entry in `out`, one per
  // line, which for short log lines is more than the text.
  const std::size_t lines = c.out.size() - c.replies.size();
  const std::size_t streamed =
      (c.waiting > c.reply_bytes ? c.waiting - c.reply_bytes : 0) + lines * reply_overhead;
  if (!reply && streamed >= max_output_buffer) {
    spdlog::warn("control connection {} (uid {}) does not read its events (over {} bytes "
                 "waiting); disconnecting it",
                 c.id, c.uid, max_output_buffer);
    drop(c.id);
    return;
  }
  if (reply && c.reply_bytes == 0) {
    // The slow-reader clock runs while replies wait. Events alone do not start it: their
    // 4 MiB bound is enough, and a `logs -f` paused with Ctrl-S should outlast it.
    c.last_write = std::chrono::steady_clock::now();
    arm(c.last_write + st_.config()->daemon.slow_reader_timeout);
  }
  const std::size_t size = text.size();
  if (reply && size > c.send_buffer) {
    fit_send_buffer(c.fd.get(), size);
    c.send_buffer = size; // asked once per size: the answer does not change
  }
  c.out.push_back(std::move(text));
  c.waiting += size;
  c.appended += size;
  if (reply) {
    c.replies.push_back({c.appended, size});
    c.reply_bytes += size;
  }
  flush(c);
}

void server::consume(connection& c, std::size_t n) {
  c.written += n;
  c.waiting -= n;
  c.last_write = std::chrono::steady_clock::now();
  while (n > 0) {
    std::size_t left = c.out.front().size() - c.out_pos;
    if (n < left) {
      c.out_pos += n;
      break;
    }
    n -= left;
    c.out.pop_front();
    c.out_pos = 0;
  }
  bool wake = false;
  while (!c.replies.empty() && c.replies.front().end <= c.written) {
    c.reply_bytes -= c.replies.front().size;
    wake = c.channel->reply_written(c.replies.front().size) || wake;
    c.replies.pop_front();
  }
  if (wake) {
    st_.rt.send(c.session, session_wake());
  }
}

void server::flush(connection& c) {
  if (c.gone) {
    if (c.close_when_flushed) {
      drop(c.id);
    }
    return;
  }
  while (c.waiting > 0) {
    // Many short lines (events) go out in one call; a long one as far as the socket takes.
    std::array<iovec, 64> iov{};
    std::size_t count = 0;
    for (auto it = c.out.begin(); it != c.out.end() && count < iov.size(); ++it, ++count) {
      std::size_t skip = count == 0 ? c.out_pos : 0;
      iov[count].iov_base = it->data() + skip;
      iov[count].iov_len = it->size() - skip;
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    ssize_t n = ::sendmsg(c.fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    if (n < 0) {
      drop(c.id); // the peer is gone
      return;
    }
    consume(c, static_cast<std::size_t>(n));
  }
  if (c.waiting == 0 && c.close_when_flushed) {
    drop(c.id);
    return;
  }
  watch(c);
}

void server::drop(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) {
    return;
  }
  connection& c = *it->second;
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
  c.channel->close();
  st_.rt.send(c.session, session_wake());
  st_.events.unfollow(id);
  quota_.closed(c.uid);
  conns_.erase(it);
  resume_accepting();
}

} // namespace vigil::daemon
