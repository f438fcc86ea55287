// SPDX-License-Identifier: Apache-2.0
// vigild's side of systemd: sd_notify datagrams, the watchdog and its health probe, and
// workers' lines in journald's native protocol, each against a datagram socket of the test's.
#include "vigil/common/unique_fd.hpp"
#include "vigil/runtime/runtime.hpp"

#include "eventually.hpp"
#include "journal.hpp"
#include "notify.hpp"
#include "systemd_watchdog.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace vigil::daemon {
namespace {

using vigil::test::eventually;

using namespace std::chrono_literals;

/// A datagram socket bound at a path (or, for a name starting with '@', in the abstract
/// namespace), as systemd's notify socket and journald's are.
class datagram_socket {
public:
  explicit datagram_socket(std::string name) : name_(std::move(name)) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    if (name_[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      (void)::unlink(name_.c_str());
    }
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    bound_ = ::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0;
  }

  datagram_socket(const datagram_socket&) = delete;
  datagram_socket& operator=(const datagram_socket&) = delete;

  ~datagram_socket() {
    if (name_[0] != '@') {
      (void)::unlink(name_.c_str());
    }
  }

  [[nodiscard]] bool bound() const { return bound_; }

  [[nodiscard]] const std::string& name() const { return name_; }

  /// The next datagram, or "" after `wait` without one.
  std::string receive(std::chrono::milliseconds wait = 1000ms) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) {
      return {};
    }
    std::array<char, 65536> buf{};
    auto n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string();
  }

private:
  std::string name_;
  unique_fd fd_;
  bool bound_ = false;
};

std::string temp_socket_path(const char* tag) {
  return "/tmp/vigil-sd-" + std::to_string(::getpid()) + "-" + tag + ".sock";
}

/// Sets NOTIFY_SOCKET for one test and restores it after.
class notify_socket_env {
public:
  explicit notify_socket_env(const std::string& value) {
    ::setenv("NOTIFY_SOCKET", value.c_str(), 1); // NOLINT(concurrency-mt-unsafe)
  }

  notify_socket_env(const notify_socket_env&) = delete;
  notify_socket_env& operator=(const notify_socket_env&) = delete;

  ~notify_socket_env() { ::unsetenv("NOTIFY_SOCKET"); } // NOLINT(concurrency-mt-unsafe)
};

bool has_line(const std::string& datagram, const std::string& line) {
  return ("\n" + datagram + "\n").find("\n" + line + "\n") != std::string::npos;
}

TEST(SdNotify, SendsStateToAPathSocket) {
  datagram_socket sock(temp_socket_path("path"));
  ASSERT_TRUE(sock.bound());
  notify_socket_env env(sock.name());
  notify_systemd("READY=1\nSTATUS=running");
  EXPECT_EQ(sock.receive(), "READY=1\nSTATUS=running");
}

TEST(SdNotify, SendsStateToAnAbstractSocket) {
  datagram_socket sock("@vigil-sd-test-" + std::to_string(::getpid()));
  ASSERT_TRUE(sock.bound());
  notify_socket_env env(sock.name());
  notify_systemd("STOPPING=1");
  EXPECT_EQ(sock.receive(), "STOPPING=1");
}

TEST(SdNotify, ReloadingCarriesTheMonotonicClock) {
  datagram_socket sock(temp_socket_path("reload"));
  notify_socket_env env(sock.name());
  notify_reloading();
  auto d = sock.receive();
  EXPECT_TRUE(has_line(d.substr(0, d.find('\n')), "RELOADING=1")) << d;
  EXPECT_NE(d.find("\nMONOTONIC_USEC="), std::string::npos) << d;
}

// A datagram to a bound Unix socket is queued before sendto() returns, so an empty receive
// right after notify_systemd() shows that nothing was sent; no wait is needed.

TEST(SdNotify, DoesNothingWithoutANotifySocket) {
  datagram_socket sock(temp_socket_path("unset"));
  ASSERT_TRUE(sock.bound());
  {
    notify_socket_env env(sock.name());
    notify_systemd("STATUS=set");
    ASSERT_EQ(sock.receive(0ms), "STATUS=set");
  }
  // vigild reads the variable at each notification: once it is gone, so are the datagrams.
  ASSERT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr); // NOLINT(concurrency-mt-unsafe)
  notify_systemd("READY=1");
  EXPECT_EQ(sock.receive(0ms), "");
}

/// Makes a fresh directory the working directory for one test, and restores the old one.
class scratch_cwd {
public:
  scratch_cwd() {
    char tmpl[] = "/tmp/vigil-sd-cwd-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    dir_ = made != nullptr ? made : "";
    old_ = std::filesystem::current_path();
    if (!dir_.empty()) {
      std::filesystem::current_path(dir_);
    }
  }

  scratch_cwd(const scratch_cwd&) = delete;
  scratch_cwd& operator=(const scratch_cwd&) = delete;

  ~scratch_cwd() {
    std::filesystem::current_path(old_);
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  [[nodiscard]] const std::string& dir() const { return dir_; }

private:
  std::string dir_;
  std::filesystem::path old_;
};

TEST(SdNotify, IgnoresARelativeNotifySocket) {
  scratch_cwd cwd;
  ASSERT_FALSE(cwd.dir().empty());
  // A socket that a relative NOTIFY_SOCKET would reach from the working directory.
  datagram_socket sock("notify.sock");
  ASSERT_TRUE(sock.bound());
  {
    notify_socket_env relative("notify.sock"); // not a path systemd would give: ignored
    notify_systemd("READY=1");
    EXPECT_EQ(sock.receive(0ms), "");
  }
  notify_socket_env absolute(cwd.dir() + "/notify.sock"); // the same socket, reachable
  notify_systemd("READY=1");
  EXPECT_EQ(sock.receive(0ms), "READY=1");
}

TEST(SdWatchdogTimeout, ReadsWatchdogUsecForThisProcess) {
  EXPECT_EQ(watchdog_timeout("2000000", nullptr, 42), std::chrono::microseconds(2'000'000));
  EXPECT_EQ(watchdog_timeout("500000", "42", 42), std::chrono::microseconds(500'000));
}

TEST(SdWatchdogTimeout, IsOffForAnotherPidOrABadValue) {
  EXPECT_FALSE(watchdog_timeout("2000000", "41", 42));
  EXPECT_FALSE(watchdog_timeout(nullptr, nullptr, 42));
  EXPECT_FALSE(watchdog_timeout("0", nullptr, 42));
  EXPECT_FALSE(watchdog_timeout("2s", nullptr, 42));
  EXPECT_FALSE(watchdog_timeout("", nullptr, 42));
  EXPECT_FALSE(watchdog_timeout("18446744073709551615", nullptr, 42)); // USEC_INFINITY
  EXPECT_FALSE(watchdog_timeout("2000000", "x", 42));
}

/// Waits as the event loop does until a tick is due, then ticks `w` and returns what reached
/// `sock` from it. The event awaited is the watchdog's own deadline (`wait_ms`, the loop's
/// epoll timeout): sleeping until it is the wait itself, and a late wake-up only delays the
/// tick, which the tests never time.
std::vector<std::string> due_tick(systemd_watchdog& w, datagram_socket& sock,
                                  const std::string& status) {
  std::this_thread::sleep_for(std::chrono::milliseconds(w.wait_ms()));
  w.tick(status);
  std::vector<std::string> got;
  for (auto d = sock.receive(0ms); !d.empty(); d = sock.receive(0ms)) {
    got.push_back(d);
  }
  return got;
}

/// A process that holds its scheduler's thread until `release` is set (and notified).
task<> hold_thread(context&, std::atomic<bool>* holding, std::atomic<bool>* release) {
  holding->store(true);
  release->wait(false);
  co_return;
}

TEST(SdWatchdog, PingsOnEveryDueTickWhileTheSchedulersRun) {
  datagram_socket sock(temp_socket_path("wd"));
  notify_socket_env env(sock.name());
  runtime rt;
  systemd_watchdog w(rt, 40ms); // a tick every 20 ms
  EXPECT_EQ(w.wait_ms(), 0);
  std::vector<std::string> got;
  for (int i = 0; i < 8; ++i) {
    // The schedulers run: each tick's probe has run before the next tick, however busy
    // the machine.
    ASSERT_TRUE(eventually([&] { return w.probe_answered(); }));
    auto d = due_tick(w, sock, "running: 3 processes");
    got.insert(got.end(), d.begin(), d.end());
  }
  EXPECT_EQ(w.pings(), 8U);
  EXPECT_EQ(w.withheld(), 0U);
  ASSERT_EQ(got.size(), 8U);
  EXPECT_EQ(got[0], "WATCHDOG=1\nSTATUS=running: 3 processes");
  EXPECT_EQ(got.back(), "WATCHDOG=1"); // the status is sent again only when it changes
}

TEST(SdWatchdog, DoesNothingBeforeATickIsDue) {
  datagram_socket sock(temp_socket_path("early"));
  notify_socket_env env(sock.name());
  runtime rt;
  systemd_watchdog w(rt, std::chrono::hours(2)); // a tick every hour; the first is due now
  w.tick("running");
  EXPECT_EQ(w.pings(), 1U);
  EXPECT_GT(w.wait_ms(), 0);
  w.tick("running");
  EXPECT_EQ(w.pings(), 1U);
  EXPECT_EQ(w.withheld(), 0U);
}

TEST(SdWatchdog, WithholdsPingsWhileEverySchedulerIsStuck) {
  datagram_socket sock(temp_socket_path("stuck"));
  notify_socket_env env(sock.name());
  runtime_options o;
  o.schedulers = 1;
  o.on_warning = [](const std::string&) {};
  runtime rt(std::move(o));
  systemd_watchdog w(rt, 40ms);
  (void)due_tick(w, sock, "running");
  ASSERT_TRUE(eventually([&] { return w.probe_answered(); }));
  ASSERT_EQ(w.pings(), 1U);
  std::atomic<bool> holding{false};
  std::atomic<bool> release{false};
  (void)rt.spawn(hold_thread, &holding, &release);
  ASSERT_TRUE(eventually([&] { return holding.load(); })); // the one scheduler is held
  // The next tick still pings (its probe ran) and spawns a probe that cannot run; every
  // tick after it withholds the ping and says why.
  std::vector<std::string> during;
  while (w.withheld() < 3) {
    auto d = due_tick(w, sock, "running");
    during.insert(during.end(), d.begin(), d.end());
  }
  EXPECT_EQ(w.pings(), 2U);
  bool said_unhealthy = false;
  for (const auto& d : during) {
    said_unhealthy = said_unhealthy || d.starts_with("STATUS=unhealthy");
  }
  EXPECT_TRUE(said_unhealthy);
  release.store(true); // the hog lets go; the waiting probe runs
  release.notify_all();
  ASSERT_TRUE(eventually([&] { return w.probe_answered(); }));
  auto withheld = w.withheld();
  (void)due_tick(w, sock, "running");
  EXPECT_EQ(w.withheld(), withheld);
  EXPECT_EQ(w.pings(), 3U);
}

TEST(Journal, TagsAWorkersLineWithItsNameAndPath) {
  auto d = journal_datagram({"web", "root/web", "stdout", "listening on :8080", 1234});
  EXPECT_EQ(d, "MESSAGE=listening on :8080\nPRIORITY=6\nSYSLOG_IDENTIFIER=web\n"
               "VIGIL_WORKER=root/web\nVIGIL_STREAM=stdout\nVIGIL_OS_PID=1234\n");
}

TEST(Journal, TakesThePriorityFromAnSdDaemonPrefix) {
  auto d = journal_datagram({"db", "root/db", "stderr", "<3>disk full", 0});
  EXPECT_TRUE(d.starts_with("MESSAGE=disk full\nPRIORITY=3\n")) << d;
  EXPECT_EQ(d.find("VIGIL_OS_PID"), std::string::npos);
  auto unknown = journal_datagram({"db", "", "stdout", "up", 0});
  EXPECT_EQ(unknown.find("VIGIL_WORKER"), std::string::npos) << unknown;
  EXPECT_TRUE(journal_datagram({"w", "w", "stdout", "<9>x", 0}).starts_with("MESSAGE=<9>x\n"));
}

TEST(Journal, EncodesANewlineInAValueWithItsLength) {
  auto d = journal_datagram({"w", "w", "stdout", "a\nb", 0});
  std::string expected = std::string("MESSAGE\n") + std::string("\x03\0\0\0\0\0\0\0", 8) + "a\nb\n";
  EXPECT_TRUE(d.starts_with(expected));
}

TEST(Journal, SendsOneDatagramPerLine) {
  datagram_socket sock(temp_socket_path("journal"));
  ASSERT_EQ(send_to_journal({"web", "root/web", "stdout", "hello", 7}, sock.name().c_str()),
            journal_send::sent);
  EXPECT_EQ(sock.receive(), journal_datagram({"web", "root/web", "stdout", "hello", 7}));
  EXPECT_EQ(send_to_journal({"web", "root/web", "stdout", "hello", 7}, "/nonexistent/socket"),
            journal_send::absent);
}

} // namespace
} // namespace vigil::daemon
