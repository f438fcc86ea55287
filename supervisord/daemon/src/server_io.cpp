// SPDX-License-Identifier: Apache-2.0
// The event loop's side of a connection: reading and framing requests, queueing them to the
// session, writing replies without blocking, and closing.
#include "vigil/daemon/request.hpp"

#include "event_store.hpp"
#include "server.hpp"
#include "server_connection.hpp"
#include "state.hpp"

#include <spdlog/spdlog.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace vigil::daemon {
namespace {

constexpr std::size_t read_chunk = 65536;

} // namespace

void server::on_readable(connection& c) {
  if (!c.reading) {
    return;
  }
  std::size_t queued_before = c.pending;
  std::string chunk(read_chunk, '\0');
  // A bounded amount per wake-up, so one busy client cannot starve the others.
  for (int round = 0; round < 4 && c.reading; ++round) {
    ssize_t n = ::read(c.fd.get(), chunk.data(), chunk.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      break;
    }
    if (n <= 0) {
      if (n < 0) {
        drop(c.id);
        return;
      }
      // End of input: answer what was asked, then close.
      c.input_done = true;
      c.channel->push({request{}, std::string(), true});
      ++c.pending;
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
  // (`printf '{"cmd":"shutdown"}\n' | nc -U` must work); then the connection goes.
  // A reset connection is dropped by on_readable, which destroys `c`: keep its id.
  std::uint64_t id = c.id;
  on_readable(c);
  if (!conns_.contains(id)) {
    return;
  }
  if (!c.input_done) {
    c.input_done = true;
    c.channel->push({request{}, std::string(), true});
    ++c.pending;
    st_.rt.send(c.session, session_wake());
  }
  c.gone = true;
  c.out.clear();
  c.out_pos = 0;
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
}

void server::queue_lines(connection& c) {
  while (auto line = c.in.next_line()) {
    auto parsed = parse_request(*line);
    if (parsed) {
      c.channel->push({std::move(*parsed), std::nullopt, false});
    } else {
      const auto& e = parsed.error();
      c.channel->push({request{}, reply_error(e.id, e.code, e.message), false});
    }
    ++c.pending;
  }
  if (c.in.overflowed()) {
    c.channel->push({request{},
                     reply_error("null", error_code::too_large,
                                 "a request line may be at most 65536 bytes; closing"),
                     true});
    ++c.pending;
    c.input_done = true;
  }
}

void server::watch(connection& c) {
  if (c.gone) {
    return;
  }
  bool want_read = !c.input_done && !c.close_when_flushed && c.pending < max_pending;
  bool want_write = c.out_pos < c.out.size();
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

void server::append_output(connection& c, const std::string& text) {
  if (c.gone) {
    return;
  }
  if (c.out.size() - c.out_pos + text.size() > max_output_buffer) {
    spdlog::warn("control connection {} does not read its replies (over {} bytes waiting); "
                 "disconnecting it",
                 c.id, max_output_buffer);
    drop(c.id);
    return;
  }
  c.out.append(text);
  flush(c);
}

void server::flush(connection& c) {
  if (c.gone) {
    if (c.close_when_flushed) {
      drop(c.id);
    }
    return;
  }
  while (c.out_pos < c.out.size()) {
    ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
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
    c.out_pos += static_cast<std::size_t>(n);
  }
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
    if (c.close_when_flushed) {
      drop(c.id);
      return;
    }
  } else if (c.out_pos > max_output_buffer / 4) {
    c.out.erase(0, c.out_pos);
    c.out_pos = 0;
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
  conns_.erase(it);
  resume_accepting();
}

} // namespace vigil::daemon
