// SPDX-License-Identifier: Apache-2.0
// Readiness and health checks of OS children from outside (docs/os-workers.md, "Readiness and
// health checks"), with real programs: redis-server speaking sd_notify, nginx answering HTTP,
// a child that hangs, children that lie about who they are, and a watchdog nobody feeds.
#include "os_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <iterator>

namespace vigil::os::test {
namespace {

using supervision::probe_kind;

const std::string notify_child = VIGIL_NOTIFY_CHILD;
const atom ready_tag("$vigil_ready");
const atom waiting_tag("$vigil_waiting");
const atom unhealthy("unhealthy");

/// A TCP port on 127.0.0.1 nothing listens on now.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool installed(const char* path) {
  return ::access(path, X_OK) == 0;
}

/// The value of `key` in process `p`'s environment.
std::string env_of(pid_t p, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(p) + "/environ");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\0', start);
    std::string kv = all.substr(start, end - start);
    if (kv.rfind(key + "=", 0) == 0) {
      return kv.substr(key.size() + 1);
    }
    start = end == std::string::npos ? all.size() : end + 1;
  }
  return {};
}

class Readiness : public os_test {
public:
  static supervision::child_spec program(std::string id, std::vector<std::string> argv) {
    auto c = command(std::move(id), {});
    c.os.command = std::move(argv);
    return c;
  }

  supervision::child_spec notifying(std::string id, const std::string& mode) {
    auto c = program(std::move(id), {"python3", notify_child, mode});
    c.ready.kind = probe_kind::notify;
    return c;
  }

  /// nginx in the fixture's directory, on `port`, in the foreground: / answers 200 and
  /// /unavailable 503.
  supervision::child_spec nginx(std::string id, std::uint16_t port) {
    auto root = dir / ("nginx-" + id);
    std::filesystem::create_directories(root / "tmp");
    std::ofstream conf(root / "nginx.conf");
    conf << "daemon off;\nworker_processes 1;\npid " << (root / "nginx.pid").string()
         << ";\nerror_log " << (root / "error.log").string()
         << ";\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n"
         << "  client_body_temp_path " << (root / "tmp").string() << ";\n"
         << "  server {\n    listen 127.0.0.1:" << port << ";\n"
         << "    location / { return 200 \"ok\\n\"; }\n"
         << "    location /unavailable { return 503; }\n  }\n}\n";
    conf.close();
    return program(std::move(id),
                   {"/usr/sbin/nginx", "-p", root.string(), "-c", (root / "nginx.conf").string(),
                    "-e", (root / "error.log").string()});
  }

  /// The status text of the child's {:"$vigil_ready", port, text}, waiting for it.
  std::optional<term> ready_text(pid port) {
    auto m = box->receive(pattern::tuple({ready_tag, term(port), pattern::bind("text")}), guard);
    if (!m) {
      return std::nullopt;
    }
    return m[0];
  }

  /// Whether a ready message from `port` is in the mailbox now.
  bool ready_now(pid port) {
    return static_cast<bool>(
        box->receive(pattern::tuple({ready_tag, term(port), pattern::any()}), timeout(0ms)));
  }

  probe_report health(pid port) {
    auto i = svc().info(port);
    return i ? i->health : probe_report{};
  }
};

TEST_F(Readiness, RedisUnderSystemdSupervisionIsReadyThroughReady1) {
  if (!installed("/usr/bin/redis-server")) {
    GTEST_SKIP() << "redis-server is not installed (scripts/setup installs it)";
  }
  auto port = std::to_string(free_port());
  auto spec = program("redis", {"/usr/bin/redis-server", "--port", port, "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--supervised", "systemd",
                                "--daemonize", "no", "--dir", dir.string()});
  spec.ready.kind = probe_kind::notify;
  pid p = start_linked(spec);
  auto text = ready_text(p);
  ASSERT_TRUE(text) << "redis-server never said READY=1";
  auto h = health(p);
  EXPECT_TRUE(h.ready);
  EXPECT_EQ(h.notify_ignored, 0U);
  // What redis-server said with it is what status shows.
  EXPECT_EQ(*text, term(h.status_text));
  EXPECT_FALSE(h.status_text.empty());
}

TEST_F(Readiness, ANotifyMessageFromAnotherProcessIsIgnored) {
  pid p = start_linked(notifying("waiter", "on-usr1"));
  ASSERT_TRUE(line_with("waiter", "waiting for SIGUSR1"));
  pid_t child = os_pid(p);
  std::string path = env_of(child, "NOTIFY_SOCKET");
  ASSERT_FALSE(path.empty()) << "the child has no NOTIFY_SOCKET";

  // This test's own process is not the child's, nor in its group, session or cgroup.
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  for (const char* lie : {"READY=1", "MAINPID=1\nREADY=1", "WATCHDOG=1\nSTATUS=forged"}) {
    ASSERT_GT(
        ::sendto(fd, lie, std::strlen(lie), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ::close(fd);
  ASSERT_TRUE(eventually([&] { return health(p).notify_ignored == 3; }));
  EXPECT_FALSE(ready_now(p)) << "a forged READY=1 made the child ready";
  EXPECT_FALSE(health(p).ready);
  EXPECT_EQ(health(p).status_text, "");

  // The child itself still can.
  ASSERT_EQ(::kill(child, SIGUSR1), 0);
  auto text = ready_text(p);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, term("told by SIGUSR1"));
}

TEST_F(Readiness, DescriptorsSentToANotifySocketAreNotKept) {
  pid p = start_linked(notifying("fdsink", "on-usr1"));
  ASSERT_TRUE(line_with("fdsink", "waiting for SIGUSR1"));
  std::string path = env_of(os_pid(p), "NOTIFY_SOCKET");
  ASSERT_FALSE(path.empty());
  int baseline = open_fds();

  // A datagram carrying descriptors: the daemon must not keep them (its table would fill).
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::array<int, 8> passed{};
  for (int& d : passed) {
    d = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  char text[] = "READY=1";
  iovec iov{text, sizeof text - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof passed)] = {};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = sizeof addr;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof passed);
  std::memcpy(CMSG_DATA(c), passed.data(), sizeof passed);
  ASSERT_GT(::sendmsg(fd, &msg, 0), 0);
  for (int d : passed) {
    ::close(d);
  }
  ::close(fd);
  ASSERT_TRUE(eventually([&] { return health(p).notify_ignored == 1; }));
  EXPECT_TRUE(eventually([&] { return open_fds() <= baseline; }))
      << open_fds() << " descriptors open, " << baseline << " before";
  EXPECT_FALSE(ready_now(p));
}

TEST_F(Readiness, MalformedNotifyDatagramsAreDroppedAndTheRestStillCounts) {
  pid p = start_linked(notifying("junk", "junk"));
  auto text = ready_text(p);
  ASSERT_TRUE(text) << "the READY=1 after the junk was lost";
  EXPECT_EQ(*text, term("serving after junk"));
  EXPECT_EQ(health(p).notify_ignored, 3U); // oversized, no '=', a NUL byte
  // The daemon's side goes on: the child runs and answers info.
  EXPECT_TRUE(rt.alive(p));
}

TEST_F(Readiness, AMainPidOutsideTheChildIsNotTaken) {
  pid p = start_linked(notifying("mainpid", "mainpid-foreign"));
  ASSERT_TRUE(ready_text(p));
  EXPECT_EQ(health(p).main_pid, 0);
  EXPECT_EQ(health(p).status_text, "pid given");
}

TEST_F(Readiness, AMissedWatchdogKillsTheChildAsUnhealthy) {
  auto spec = notifying("dog", "watchdog-once");
  spec.watchdog = 300ms;
  pid p = start_linked(spec);
  ASSERT_TRUE(ready_text(p));
  EXPECT_TRUE(line_with("dog", "WATCHDOG_USEC=300000"));
  EXPECT_EQ(exit_reason(p), vigil::make_tuple(unhealthy, "watchdog: no WATCHDOG=1 for 300ms"));
}

TEST_F(Readiness, NginxPassesItsHttpCheck) {
  if (!installed("/usr/sbin/nginx")) {
    GTEST_SKIP() << "nginx is not installed (scripts/setup installs it)";
  }
  auto port = free_port();
  auto spec = nginx("web", port);
  spec.ready.kind = probe_kind::http;
  spec.ready.target = "http://127.0.0.1:" + std::to_string(port) + "/";
  spec.ready.interval = 50ms;
  spec.health = spec.ready;
  spec.health.interval = 50ms;
  pid p = start_linked(spec);
  ASSERT_TRUE(ready_text(p)) << "nginx never answered 200";
  // The health check runs too, and passes.
  ASSERT_TRUE(eventually([&] {
    auto h = health(p);
    return h.check == "http " + spec.health.target && h.last_result == "ok"
           && h.last_check_unix_ms > 0 && h.consecutive_failures == 0;
  }));
  EXPECT_TRUE(rt.alive(p));
}

TEST_F(Readiness, AWrongHttpStatusFailsTheHealthCheck) {
  if (!installed("/usr/sbin/nginx")) {
    GTEST_SKIP() << "nginx is not installed (scripts/setup installs it)";
  }
  auto port = free_port();
  auto spec = nginx("web503", port);
  spec.ready.kind = probe_kind::tcp;
  spec.ready.target = "127.0.0.1:" + std::to_string(port);
  spec.ready.interval = 50ms;
  spec.health.kind = probe_kind::http;
  spec.health.target = "http://127.0.0.1:" + std::to_string(port) + "/unavailable";
  spec.health.interval = 50ms;
  spec.health.failures = 2;
  pid p = start_linked(spec);
  ASSERT_TRUE(ready_text(p));
  EXPECT_EQ(exit_reason(p),
            vigil::make_tuple(unhealthy, "http " + spec.health.target + ": status 503"));
}

TEST_F(Readiness, AHungChildFailsItsHttpCheckAndIsKilledAsUnhealthy) {
  if (!installed("/usr/sbin/nginx")) {
    GTEST_SKIP() << "nginx is not installed (scripts/setup installs it)";
  }
  auto port = free_port();
  auto spec = nginx("hung", port);
  spec.ready.kind = probe_kind::http;
  spec.ready.target = "http://127.0.0.1:" + std::to_string(port) + "/";
  spec.ready.interval = 50ms;
  spec.health = spec.ready;
  spec.health.timeout = 300ms;
  spec.health.failures = 2;
  pid p = start_linked(spec);
  ASSERT_TRUE(ready_text(p));
  // The whole group stops: the kernel still accepts connections, nobody answers.
  ASSERT_EQ(::kill(-os_pid(p), SIGSTOP), 0);
  EXPECT_EQ(exit_reason(p),
            vigil::make_tuple(unhealthy, "http " + spec.health.target + ": timed out after 300ms"));
}

TEST_F(Readiness, ARefusedTcpCheckRestartsTheChildUnderItsSupervisor) {
  auto spec = command("refused", {"quit-on-term", ""});
  spec.health.kind = probe_kind::tcp;
  spec.health.target = "127.0.0.1:" + std::to_string(free_port());
  spec.health.interval = 20ms;
  spec.health.failures = 2;
  pid sup = start_tree({spec}, 100);
  pid first = child_pid(sup, "refused");
  pid second = restarted(sup, "refused", first);
  EXPECT_NE(second, pid{});
}

TEST_F(Readiness, AnExecProbeRetriesUntilItSucceeds) {
  auto marker = (dir / "tried").string();
  auto spec = command("execd", {"quit-on-term", ""});
  spec.ready.kind = probe_kind::exec;
  // Fails the first time (and leaves a mark), succeeds the next.
  spec.ready.command = {"sh", "-c",
                        "if [ -e " + marker + " ]; then exit 0; fi; touch " + marker + "; exit 1"};
  spec.ready.interval = 20ms;
  pid p = start_linked(spec);
  auto waiting =
      box->receive(pattern::tuple({waiting_tag, term(p), term("exec sh: exit status 1")}), guard);
  EXPECT_TRUE(waiting) << "the failed first attempt was not reported";
  ASSERT_TRUE(ready_text(p));
  EXPECT_TRUE(health(p).ready);
  EXPECT_EQ(health(p).last_result, "ok");
}

TEST_F(Readiness, AnExecProbeThatHangsIsKilledAtItsTimeout) {
  auto spec = command("slowprobe", {"quit-on-term", ""});
  spec.health.kind = probe_kind::exec;
  spec.health.command = {"sleep", "1000"};
  spec.health.interval = 10ms;
  spec.health.timeout = 100ms;
  spec.health.failures = 1;
  pid p = start_linked(spec);
  EXPECT_EQ(exit_reason(p), vigil::make_tuple(unhealthy, "exec sleep: timed out after 100ms"));
  EXPECT_TRUE(eventually([] { return zombie_children() == 0; }));
}

/// Whether `p` runs code now: a zombie does not (the orphan may go to a reaper not ours).
bool runs(pid_t p) {
  std::ifstream in("/proc/" + std::to_string(p) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z'
         && stat[close + 2] != 'X';
}

TEST_F(Readiness, WhatAnExecProbeLeavesInItsGroupEndsWithIt) {
  // `sleep 1000 &` stays in the probe's process group after the probe exits. It ran on, past
  // the child's stop and vigild's exit (then with parent 1), unless vigild's orphan sweep
  // happened to reap the probe before the reactor did.
  auto left = dir / "left.pid";
  auto spec = command("leaver", {"quit-on-term", ""});
  spec.ready.kind = probe_kind::exec;
  spec.ready.command = {"sh", "-c",
                        "sleep 1000 & echo $! > " + left.string() + ".tmp && mv " + left.string()
                            + ".tmp " + left.string()};
  pid p = start_linked(spec);
  ASSERT_TRUE(ready_text(p)) << "the probe did not pass";
  pid_t sleeper = 0;
  {
    std::ifstream in(left);
    in >> sleeper;
  }
  ASSERT_GT(sleeper, 0) << "the probe passed without leaving its pid file";
  bool ended = eventually([&] { return !runs(sleeper); });
  if (!ended) {
    ::kill(sleeper, SIGKILL);
  }
  EXPECT_TRUE(ended) << "the probe's background process outlived the probe";
}

TEST_F(Readiness, ALogLineMatchingTheRegexMakesTheChildReady) {
  auto spec = program("logged", {"sh", "-c",
                                 "echo starting; echo 'server listening on port 4242'; "
                                 "exec sleep 1000"});
  spec.ready.kind = probe_kind::log;
  spec.ready.target = "listening on port [0-9]+";
  pid p = start_linked(spec);
  auto text = ready_text(p);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, term("server listening on port 4242"));
}

TEST_F(Readiness, LongLinesSearchedByALogRegexNeitherCrashNorStallTheDaemon) {
  // The regex is the administrator's, each line (up to 16 KiB) the child's, searched on the
  // reactor's thread, which serves every child. A backtracking matcher recurses once per
  // character for "(.)*ready" and takes time quadratic in the line for ".*ready": one child
  // printing long lines took vigild down (stack overflow) or stalled every other child.
  auto echo = command("echo", {});
  echo.os.command = {VIGIL_SDK_ECHO_BIN};
  pid echo_port = start_linked(echo);
  const std::array<std::string, 2> regexes{"(.)*ready", ".*ready"};
  for (std::size_t n = 0; n < regexes.size(); ++n) {
    const std::string& regex = regexes[n];
    auto spec = command("long-" + std::to_string(n), {"long-lines", "32"});
    spec.ready.kind = probe_kind::log;
    spec.ready.target = regex;
    pid p = start_linked(spec);
    ASSERT_TRUE(line_with(spec.id, "aaaa")) << regex;
    // The long lines are being searched now; another child's messages still go through.
    for (int i = 0; i < 3; ++i) {
      box->ctx().send(echo_port, vigil::make_tuple(me_pid(), atoms::ping));
      ASSERT_TRUE(box->receive(vigil::make_tuple(atoms::ok, atoms::pong), guard))
          << regex << ": the reactor stalled";
    }
    auto text = ready_text(p);
    ASSERT_TRUE(text) << regex;
    EXPECT_EQ(*text, term("ready at last")) << regex;
  }
}

TEST_F(Readiness, AProbeThatCannotRunFailsTheStart) {
  auto spec = command("badregex", {"quit-on-term", ""});
  spec.ready.kind = probe_kind::log;
  spec.ready.target = "(unclosed";
  box->ctx().trap_exit(true);
  auto port = svc().start(box->ctx(), spec);
  ASSERT_FALSE(port);
  EXPECT_NE(port.error().message().find("not a valid regex"), std::string::npos);
  auto named = command("byname", {"quit-on-term", ""});
  named.health.kind = probe_kind::http;
  named.health.target = "http://example.org/healthz";
  auto refused = svc().start(box->ctx(), named);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("IP address"), std::string::npos);
  auto logged = command("loghealth", {"quit-on-term", ""});
  logged.health.kind = probe_kind::log;
  logged.health.target = "ok";
  auto no_log_health = svc().start(box->ctx(), logged);
  ASSERT_FALSE(no_log_health);
  EXPECT_NE(no_log_health.error().message().find("tcp, http or exec"), std::string::npos);
}

} // namespace
} // namespace vigil::os::test
