// SPDX-License-Identifier: Apache-2.0
#pragma once

// A stand-in for vigild's control socket: it reads request lines and writes whatever lines
// a test's handler returns, so that tests check the client against canned protocol lines.

#include "vigil/common/unique_fd.hpp"
#include "vigil/ctl/json.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vigil::ctl::testing {

/// `{"v":1,"id":<id>,"ok":true,"result":<result>}` for `request`.
inline std::string ok_reply(const json& request, const json& result) {
  return dump_json(json{{"v", 1}, {"id", request["id"]}, {"ok", true}, {"result", result}});
}

/// `{"v":1,"id":<id>,"ok":false,"error":{"code","message"}}` for `request`.
inline std::string error_reply(const json& request, const std::string& code,
                               const std::string& message) {
  return dump_json(json{{"v", 1},
                        {"id", request.is_null() ? json(nullptr) : request["id"]},
                        {"ok", false},
                        {"error", {{"code", code}, {"message", message}}}});
}

/// What the fake daemon writes back for one request: lines (each gets a newline), then
/// `raw` bytes as they are, then whether to close the connection.
struct response {
  std::vector<std::string> lines;
  bool close = false;
  std::string raw;
  /// Write `raw` a few bytes at a time, so that the client reads partial lines.
  bool trickle = false;
};

/// Serves one connection at a time on a Unix socket in a fresh temporary directory, or on a
/// socketpair. Each request line goes to `handler`, parsed (a JSON null if it is not JSON).
class fake_daemon {
public:
  using handler_fn = std::function<response(const json& request)>;

  explicit fake_daemon(handler_fn handler, std::vector<std::string> greeting = {})
      : handler_(std::move(handler)), greeting_(std::move(greeting)) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "vigilctl-test-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
    path_ = dir_ + "/control.sock";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    (void)::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    (void)::listen(listener_.get(), 8);
    int fds[2] = {-1, -1};
    [[maybe_unused]] int rc = ::pipe(fds);
    stop_read_.reset(fds[0]);
    stop_write_.reset(fds[1]);
    thread_ = std::thread([this] { accept_loop(); });
  }

  fake_daemon(const fake_daemon&) = delete;
  fake_daemon& operator=(const fake_daemon&) = delete;
  fake_daemon(fake_daemon&&) = delete;
  fake_daemon& operator=(fake_daemon&&) = delete;

  ~fake_daemon() {
    [[maybe_unused]] ssize_t n = ::write(stop_write_.get(), "x", 1);
    thread_.join();
    for (auto& t : pair_threads_) {
      t.join();
    }
    std::filesystem::remove_all(dir_);
  }

  /// The socket's path, for `client::connect`.
  [[nodiscard]] const std::string& path() const { return path_; }

  /// A connected socket whose other end this daemon serves.
  [[nodiscard]] unique_fd connect_pair() {
    int fds[2] = {-1, -1};
    [[maybe_unused]] int rc = ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
    int server_fd = fds[1];
    pair_threads_.emplace_back([this, server_fd] { serve(unique_fd(server_fd)); });
    return unique_fd(fds[0]);
  }

  /// Every request received so far, in order.
  [[nodiscard]] std::vector<json> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  /// How many connections were accepted on the path.
  [[nodiscard]] int connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

private:
  void accept_loop() {
    for (;;) {
      pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 || (fds[1].revents & POLLIN) != 0) {
        return;
      }
      unique_fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn) {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      if (conn && !serve(std::move(conn))) {
        return;
      }
    }
  }

  static void write_line(int fd, std::string line) {
    line += '\n';
    std::string_view rest = line;
    while (!rest.empty()) {
      ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Serves `conn` until the peer or a handler closes it; false when asked to stop.
  bool serve(unique_fd conn) {
    for (const std::string& line : greeting_) {
      write_line(conn.get(), line);
    }
    std::string buffer;
    for (;;) {
      pollfd fds[2] = {{conn.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 || (fds[1].revents & POLLIN) != 0) {
        return false;
      }
      char chunk[4096];
      ssize_t n = ::read(conn.get(), chunk, sizeof chunk);
      if (n <= 0) {
        return true;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (std::size_t end; (end = buffer.find('\n')) != std::string::npos;) {
        std::string line = buffer.substr(0, end);
        buffer.erase(0, end + 1);
        if (!answer(conn.get(), line)) {
          return true;
        }
      }
    }
  }

  // Hands one request line to the handler and writes its response; false to close.
  bool answer(int fd, const std::string& line) {
    json request = json::parse(line, nullptr, false);
    if (request.is_discarded()) {
      request = nullptr;
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    response r = handler_(request);
    for (const std::string& out : r.lines) {
      write_line(fd, out);
    }
    std::size_t step = r.trickle ? 7 : r.raw.size();
    for (std::size_t at = 0; at < r.raw.size(); at += step) {
      std::size_t len = std::min(step, r.raw.size() - at);
      [[maybe_unused]] ssize_t sent = ::send(fd, r.raw.data() + at, len, MSG_NOSIGNAL);
      if (r.trickle) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return !r.close;
  }

  handler_fn handler_;
  std::vector<std::string> greeting_;
  std::string dir_;
  std::string path_;
  unique_fd listener_;
  unique_fd stop_read_;
  unique_fd stop_write_;
  std::thread thread_;
  std::vector<std::thread> pair_threads_;
  mutable std::mutex mutex_;
  std::vector<json> requests_;
  int connections_ = 0;
};

} // namespace vigil::ctl::testing
