// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/os/launch.hpp"
#include "vigil/supervision/spec.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

/// One attempt of a tcp, http or exec check, driven by the reactor: no thread and no
/// blocking call. Its descriptor (a socket, or an exec probe's pidfd) goes into the
/// reactor's epoll; each event calls `step`, which ends in an outcome or waits again.
namespace vigil::os::detail {

struct probe_outcome {
  bool ok = false;
  std::string error; ///< why it failed: "connection refused", "status 503", "exit status 1"
};

/// An address to connect to, from "1.2.3.4:80", "[::1]:80" or "localhost:80".
struct endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

[[nodiscard]] std::optional<endpoint> parse_endpoint(const std::string& host_port);

/// An http:// URL: where to connect, the Host header and the path (TLS is not spoken).
struct http_target {
  endpoint where;
  std::string host;
  std::string path;
};

[[nodiscard]] std::optional<http_target> parse_http_url(const std::string& url);

/// The status code of an HTTP/1.x status line ("HTTP/1.1 200 OK"), or nullopt.
[[nodiscard]] std::optional<int> parse_status_line(std::string_view line);

/// "tcp 127.0.0.1:6379", "http http://...", "exec pg_isready": what a check is called in
/// its result and in `{:unhealthy, detail}`.
[[nodiscard]] std::string describe(const supervision::probe_spec& spec);

/// "5s" or "250ms".
[[nodiscard]] std::string format_duration(std::chrono::milliseconds d);

class probe_attempt {
public:
  /// Starts an attempt; it may be over at once (`done`): a bad target, a launch failure.
  /// `exec` is how an exec probe runs (the child's user, environment, directory).
  probe_attempt(const supervision::probe_spec& spec, const launch_spec& exec);
  probe_attempt(const probe_attempt&) = delete;
  probe_attempt& operator=(const probe_attempt&) = delete;
  /// Kills an exec probe still running (its group) and reaps it.
  ~probe_attempt();

  /// The descriptor to watch and for what (EPOLLIN/EPOLLOUT); -1 once done.
  [[nodiscard]] int fd() const;

  [[nodiscard]] std::uint32_t events() const { return events_; }

  /// Makes what progress the descriptor allows; the outcome once there is one. The
  /// caller re-arms its epoll entry with `events()` when that changed.
  std::optional<probe_outcome> step();

  [[nodiscard]] const std::optional<probe_outcome>& done() const { return outcome_; }

private:
  void start_connect(const endpoint& where);
  void start_exec(const supervision::probe_spec& spec, const launch_spec& exec);
  void finish(bool ok, std::string error);
  void step_connect();
  void step_http();
  void step_exec();
  void end_exec();

  supervision::probe_kind kind_;
  std::uint32_t want_status_ = 200;
  unique_fd fd_;
  std::uint32_t events_ = 0;
  bool connected_ = false;
  std::string request_;
  std::size_t sent_ = 0;
  std::string response_;
  pid_t exec_pid_ = 0;
  std::optional<probe_outcome> outcome_;
};

} // namespace vigil::os::detail
