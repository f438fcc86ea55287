// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild's event loop (s6's iopause loop, on epoll): one thread waits on the signalfd, the
// listening socket, the outbox's eventfd and every client socket, and nothing else, so an
// idle daemon makes no wake-ups. Sockets are non-blocking; a client's replies and events wait
// in its output buffer, and a client that lets that buffer pass 4 MiB is disconnected, so no
// client can hold up the daemon.

#include "vigil/common/unique_fd.hpp"
#include "vigil/daemon/framing.hpp"

#include "systemd_watchdog.hpp"

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

/// A client's output beyond this many bytes gets it disconnected.
inline constexpr std::size_t max_output_buffer = std::size_t{4} << 20;

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
  void on_readable(connection& c);
  void peer_gone(connection& c);
  void queue_lines(connection& c);
  void on_outbox();
  void handle(const post& p);
  void append_output(connection& c, const std::string& text);
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
  std::uint64_t next_id_ = 16;
  bool stopping_ = false;
  bool finishing_ = false;
  std::chrono::steady_clock::time_point finish_by_{};
  int exit_code_ = 0;
  /// Set when systemd asked for a watchdog (WatchdogSec=): pinged from this loop.
  std::optional<systemd_watchdog> watchdog_;
};

} // namespace vigil::daemon
