// SPDX-License-Identifier: Apache-2.0
// vigild's event loop (server.hpp) on a real Unix socket, in a thread of the test, serving the
// fixture's daemon: the limits a client meets (a line over 64 KiB, a duplicate key, no first
// request in time) and a shutdown that ends the loop. The client is a plain socket that
// speaks docs/protocol.md.
#include "server.hpp"

#include "daemon_fixture.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <thread>

namespace vigil::daemon::test {
namespace {

constexpr std::string_view one_child = R"(
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "echo"
kind = "echo"
)";

std::string config_with(std::string_view first_request_timeout) {
  return test_config(one_child,
                     "first_request_timeout = \"" + std::string(first_request_timeout) + "\"");
}

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

/// A client of the control socket: lines out, lines in, every read bounded by hang_guard.
class socket_client {
public:
  explicit socket_client(const std::string& path)
      : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    auto addr = address_of(path);
    connected_ = ::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }

  [[nodiscard]] bool connected() const noexcept { return connected_; }

  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return; // closed by the daemon; what it said is still to be read
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// The next line without its newline; nullopt at the end of the stream (or a hang).
  std::optional<std::string> read_line() {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string out = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return out;
      }
      pollfd pfd{fd_.get(), POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(hang_guard.count())) != 1) {
        ADD_FAILURE() << "the daemon said nothing within the guard";
        return std::nullopt;
      }
      char chunk[4096];
      ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
      if (n <= 0) {
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// The next reply, parsed; null at the end of the stream.
  json reply() {
    auto l = read_line();
    return l ? json::parse(*l) : json();
  }

  json call(std::string_view request) {
    write(std::string(request) + "\n");
    return reply();
  }

  /// True when the daemon closes the connection with nothing more to say.
  bool closed() { return !read_line().has_value(); }

private:
  unique_fd fd_;
  bool connected_ = false;
  std::string buffer_;
};

/// The daemon of daemon_fixture served by its real event loop on `dir/control.sock`.
class server_fixture {
public:
  explicit server_fixture(std::string_view config) : d(config) {
    socket_path = (d.dir() / "control.sock").string();
    unique_fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    auto addr = address_of(socket_path);
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0
        || ::listen(listener.get(), 64) != 0) {
      throw std::runtime_error("unable to listen on " + socket_path);
    }
    // No signal ever comes: an eventfd nobody writes stands for the signalfd.
    unique_fd signals(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    srv_ = std::make_unique<server>(d.st(), std::move(listener), socket_path, std::move(signals));
    exit_code = std::async(std::launch::async, [this] { return srv_->run(); });
  }

  server_fixture(const server_fixture&) = delete;
  server_fixture& operator=(const server_fixture&) = delete;

  ~server_fixture() {
    if (exit_code.valid()) {
      socket_client stopper(socket_path);
      (void)stopper.call(R"({"id":0,"cmd":"shutdown"})");
      exit_code.wait();
    }
  }

  daemon_fixture d;
  std::string socket_path;
  std::future<int> exit_code;

private:
  std::unique_ptr<server> srv_;
};

TEST(DaemonServer, ARequestLineOverTheLimitGetsTooLargeAndTheConnectionCloses) {
  server_fixture s(config_with("30s"));
  socket_client c(s.socket_path);
  ASSERT_TRUE(c.connected());
  auto hello = c.call(R"({"id":1,"cmd":"hello"})");
  ASSERT_EQ(hello["ok"], true) << hello;
  c.write(std::string(max_request_line + 10, ' '));
  auto r = c.reply();
  EXPECT_TRUE(is_error(r, "too_large")) << r;
  EXPECT_TRUE(r["id"].is_null()) << r;
  EXPECT_TRUE(c.closed());
  // The daemon serves the next client.
  socket_client next(s.socket_path);
  EXPECT_EQ(next.call(R"({"id":2,"cmd":"hello"})")["ok"], true);
}

TEST(DaemonServer, ADuplicateKeyIsABadRequestThatRunsNothing) {
  server_fixture s(config_with("30s"));
  socket_client c(s.socket_path);
  auto r = c.call(R"({"id":3,"cmd":"status","cmd":"shutdown"})");
  ASSERT_TRUE(is_error(r, "bad_request")) << r;
  EXPECT_EQ(r["id"], 3);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("duplicate key \"cmd\""),
            std::string::npos)
      << r;
  // The connection stays open, and the daemon did not stop.
  auto status = c.call(R"({"id":4,"cmd":"status"})");
  EXPECT_EQ(status["ok"], true) << status;
  EXPECT_EQ(status["result"]["workers"][0]["path"], "root/echo");
}

TEST(DaemonServer, AConnectionWithoutARequestIsClosedAfterFirstRequestTimeout) {
  server_fixture s(config_with("100ms"));
  socket_client idle(s.socket_path);
  ASSERT_TRUE(idle.connected());
  auto r = idle.reply();
  ASSERT_TRUE(is_error(r, "failed")) << r;
  EXPECT_NE(r["error"]["message"].get<std::string>().find("daemon.first_request_timeout"),
            std::string::npos)
      << r;
  EXPECT_TRUE(idle.closed());
}

TEST(DaemonServer, ShutdownAnswersStopsTheTreeAndEndsTheLoopWithZero) {
  server_fixture s(config_with("30s"));
  const pid root = s.d.st().root();
  socket_client c(s.socket_path);
  auto r = c.call(R"({"id":9,"cmd":"shutdown"})");
  ASSERT_EQ(r["ok"], true) << r;
  EXPECT_EQ(r["result"]["stopping"], true);
  EXPECT_TRUE(c.closed());
  ASSERT_EQ(s.exit_code.wait_for(hang_guard), std::future_status::ready);
  EXPECT_EQ(s.exit_code.get(), 0);
  EXPECT_FALSE(s.d.rt().alive(root));
}

} // namespace
} // namespace vigil::daemon::test
