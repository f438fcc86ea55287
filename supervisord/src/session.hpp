// SPDX-License-Identifier: Apache-2.0
#pragma once

// A control session: the process that each connection owns (docs/protocol.md, "Sessions and
// self()"). The event loop validates request lines and queues them on the session's channel;
// the session runs them one after the other, so replies keep request order, and posts each
// reply line to the outbox. Its pid is the client's self(): messages sent to it wait in its
// mailbox for `send --await`, `flush` and `receive`.

#include "vigil/runtime/runtime.hpp"

#include "protocol_vocabulary.hpp"

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vigil::daemon {

class daemon_state;

/// One queued item: a request to run, or a reply the loop already made (an error for a
/// malformed line) that must still go out in order.
struct queued_request {
  request req;
  std::optional<std::string> ready_reply;
  /// Close the connection after this item's reply (a line over the limit, end of input).
  bool close_after = false;
};

/// While this many bytes of a session's replies wait to be written to its client, the
/// session runs no further request: a client that pipelines requests and reads slowly is
/// not sent more than it reads, and a reply of any size still goes out whole. The bytes are
/// what the replies hold in vigild's memory (reply_cost), not only their text.
inline constexpr std::size_t reply_backlog_limit = std::size_t{4} << 20;

/// What an unsent reply holds besides its text: the heap block of its string (sized by the
/// string's growth, plus malloc's header), its std::string in the connection's output deque,
/// its reply_mark, and the outbox slots of its post. Measured on a release build (glibc)
/// with 16 connections pipelining one-byte requests and reading nothing: each 86-byte
/// error reply cost 213 bytes of vigild's RSS, 9.9 MiB a connection at 4 MiB of reply text.
/// Counting it keeps a flood of tiny replies near reply_backlog_limit of real memory.
inline constexpr std::size_t reply_overhead = 128;

/// How much a reply of `bytes` bytes counts in its session's backlog while it waits.
[[nodiscard]] constexpr std::size_t reply_cost(std::size_t bytes) noexcept {
  return bytes + reply_overhead;
}

/// The queue between the event loop (producer) and a session process (consumer).
class session_channel {
public:
  session_channel(std::uint64_t conn, ::uid_t peer_uid) noexcept
      : conn_(conn), peer_uid_(peer_uid) {}

  [[nodiscard]] std::uint64_t conn() const noexcept { return conn_; }

  /// The client's uid (SO_PEERCRED): whose atom budget its terms draw on.
  [[nodiscard]] ::uid_t peer_uid() const noexcept { return peer_uid_; }

  /// The processes this session spawned (`spawn`) that may still run. They belong to the
  /// session and end with it. Touched by the session process only.
  std::vector<pid> spawned;
  /// The most spawned processes one session may have running at once.
  static constexpr std::size_t max_spawned = 1'000;

  void push(queued_request item);
  [[nodiscard]] std::optional<queued_request> pop();

  /// The connection is gone: the session ends after its current request.
  void close() noexcept { closed_.store(true); }

  [[nodiscard]] bool closed() const noexcept { return closed_.load(); }

  /// The session posted a reply of `bytes` bytes of text; it counts reply_cost(bytes).
  void reply_posted(std::size_t bytes) noexcept { unsent_replies_.fetch_add(reply_cost(bytes)); }

  /// The event loop wrote a whole reply of `bytes` bytes of text. Returns true when that
  /// brought the backlog back under the limit: the session may be waiting and must be woken.
  [[nodiscard]] bool reply_written(std::size_t bytes) noexcept {
    const std::size_t cost = reply_cost(bytes);
    std::size_t before = unsent_replies_.fetch_sub(cost);
    return before > reply_backlog_limit && before - cost <= reply_backlog_limit;
  }

  /// The peer can read nothing more: its requests run without waiting for it.
  void unthrottle() noexcept { unthrottled_.store(true); }

  /// Whether the session must wait (for session_wake) before running the next request.
  [[nodiscard]] bool backlogged() const noexcept {
    return !closed_.load() && !unthrottled_.load() && unsent_replies_.load() > reply_backlog_limit;
  }

private:
  std::uint64_t conn_;
  ::uid_t peer_uid_;
  std::mutex mutex_;
  std::deque<queued_request> queue_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> unthrottled_{false};
  std::atomic<std::size_t> unsent_replies_{0};
};

/// The message that wakes a session for new work; never shown to the client.
[[nodiscard]] atom session_wake();

/// Spawns the session process for `ch`.
[[nodiscard]] result<pid> start_session(daemon_state& st, std::shared_ptr<session_channel> ch);

} // namespace vigil::daemon
