// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild's event loop (s6's iopause loop, on epoll): one thread waits on the signalfd, the
// listening socket, the outbox's eventfd and every client socket, and nothing else, so an
// idle daemon makes no wake-ups. Sockets are non-blocking; a client's replies and events wait
// in its output queue. A reply of any size is written out as the client reads it, while its
// session runs no further request (session.hpp); a client that reads none of its replies for
// slow_reader_timeout, or lets 4 MiB of events pile up, is disconnected, so no client can
// hold up the daemon. Connections are bounded per uid, a connection must send its first
// request within first_request_timeout, and refusals are logged at most about once a second
// (refusal_log.hpp).

#include "vigil/common/unique_fd.hpp"

#include "connection_quota.hpp"
#include "protocol_vocabulary.hpp"
#include "refusal_log.hpp"
#include "systemd_watchdog.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace vigil::daemon {

class daemon_state;
class session_channel;
struct post;

/// A client with this many bytes of events and log lines waiting to be read is disconnected
/// (its replies are bounded by its session instead, see reply_backlog_limit).
inline constexpr std::size_t max_output_buffer = std::size_t{4} << 20;

/// Control connections served at once, all users together.
inline constexpr std::size_t max_connections = 1024;
/// Of those, the last ones are kept for root and vigild's own user, so that other users
/// cannot take them all (max_connections_per_user bounds each of them).
inline constexpr std::size_t reserved_connections = 32;

class server {
public:
  /// `listener` is the bound, listening control socket at `socket_path`; `signals` a signalfd
  /// for SIGHUP, SIGTERM, SIGINT and SIGCHLD.
  server(daemon_state& st, unique_fd listener, std::string socket_path, unique_fd signals);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  /// Serves until the tree has stopped; returns vigild's exit code.
  [[nodiscard]] int run();

private:
  struct connection;

  void add_fd(int fd, std::uint64_t tag, std::uint32_t events);
  void on_signals();
  void on_accept();
  /// Answers and closes the next pending connection when vigild is out of descriptors.
  void shed_connection(int accept_errno);
  /// Watches the listener again after shed_connection had to stop (a connection closed).
  void resume_accepting();
  void admit(unique_fd fd);
  /// Refuses a client: `reply` to it, and a rate-limited warning.
  void refuse_client(int fd, std::uint32_t uid, error_code code, const std::string& reply,
                     const std::string& warning, const std::string& why);
  /// Closes connections past their first_request_timeout or slow_reader_timeout, and writes
  /// the refusals' summary when due; sets next_check_.
  void check_timers();
  /// Makes sure check_timers runs by `when`.
  void arm(std::chrono::steady_clock::time_point when);
  void on_readable(connection& c);
  void peer_gone(connection& c);
  void queue_lines(connection& c);
  void on_outbox();
  void handle(post& p);
  /// Queues `text` (moved: a reply may be megabytes) for `c`.
  void append_output(connection& c, std::string text, bool reply);
  /// Takes `n` written bytes off `c`'s output queue; wakes its session when its replies are
  /// back under the backlog limit.
  void consume(connection& c, std::size_t n);
  void flush(connection& c);
  void watch(connection& c);
  void drop(std::uint64_t id);
  void begin_shutdown(int code);
  void begin_finish();
  void start_reload();
  [[nodiscard]] bool finished() const;
  /// What systemd's STATUS= says while the loop runs.
  [[nodiscard]] std::string status_text() const;

  daemon_state& st_;
  unique_fd epoll_;
  unique_fd listener_;
  std::string socket_path_;
  unique_fd signals_;
  /// /dev/null, held in reserve: closing it frees the one descriptor needed to accept and
  /// refuse a connection once vigild has none left, so the listener does not stay readable.
  unique_fd spare_fd_;
  bool out_of_fds_ = false;      ///< logged once per shortage
  bool listener_paused_ = false; ///< out of epoll until a descriptor is freed
  std::chrono::steady_clock::time_point resume_at_{};
  std::map<std::uint64_t, std::unique_ptr<connection>> conns_;
  /// Connections open per uid, and who may open one more (every connection counted).
  connection_quota quota_{max_connections, reserved_connections};
  refusal_log refusals_;
  /// When check_timers must next run; max() when nothing waits on a clock.
  std::chrono::steady_clock::time_point next_check_ = std::chrono::steady_clock::time_point::max();
  std::uint64_t next_id_ = 16;
  bool stopping_ = false;
  bool finishing_ = false;
  std::chrono::steady_clock::time_point finish_by_{};
  int exit_code_ = 0;
  /// Set when systemd asked for a watchdog (WatchdogSec=): pinged from this loop.
  std::optional<systemd_watchdog> watchdog_;
};

} // namespace vigil::daemon
