// SPDX-License-Identifier: Apache-2.0
// Command children under real supervisors: exit reasons, stops, logs, info, exec failures,
// privilege drop.
#include "vigil/os/reaper.hpp"

#include "os_fixture.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

namespace vigil::os::test {
namespace {

using Commands = os_test;
using Stopping = os_test;
using Logs = os_test;

TEST_F(Commands, ExitReasonsFollowTheOSStatus) {
  auto normal = command("ok", {"exit", "0"});
  EXPECT_EQ(exit_reason(start_linked(normal)), term(atoms::normal));
  auto status = command("three", {"exit", "3"});
  EXPECT_EQ(exit_reason(start_linked(status)), vigil::make_tuple(atom("exit_status"), 3));
  auto segv = command("segv", {"signal", std::to_string(SIGSEGV)});
  EXPECT_EQ(exit_reason(start_linked(segv)), vigil::make_tuple(atom("signal"), atom("SIGSEGV")));
}

TEST_F(Commands, AKilledOSChildIsRestartedWithANewPortAndProcess) {
  pid sup = start_tree({command("sleeper", {"quit-on-term", ""})});
  pid port = child_pid(sup, "sleeper");
  pid_t first = os_pid(port);
  ASSERT_GT(first, 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  pid port2 = restarted(sup, "sleeper", port);
  EXPECT_NE(os_pid(port2), first);
  EXPECT_FALSE(rt.alive(port));
  EXPECT_TRUE(eventually([&] { return gone(first); })) << "the old child was not reaped";
  EXPECT_EQ(svc().info(port2)->restarts, 1U);
}

TEST_F(Commands, ExecFailuresFailTheStartClearly) {
  auto bad = command("bad", {});
  bad.os.command = {"/nonexistent/vigil-prog", "x"};
  auto sup = try_start_tree({bad});
  ASSERT_FALSE(sup);
  EXPECT_NE(sup.error().context.find(
                "failed to start child 'bad': exec /nonexistent/vigil-prog: No such file or "
                "directory (ENOENT)"),
            std::string::npos)
      << sup.error().context;
}

TEST_F(Commands, ExecFailuresOnRestartCountTowardTheIntensity) {
  auto prog = dir / "prog";
  std::filesystem::copy_file(test_child, prog);
  pid sup = start_tree({[&] {
                         auto c = command("doomed", {"quit-on-term", ""});
                         c.os.command[0] = prog.string();
                         return c;
                       }()},
                       2);
  pid port = child_pid(sup, "doomed");
  pid_t child = os_pid(port);
  reference ref = box->ctx().monitor(sup);
  std::filesystem::remove(prog);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  auto down = box->receive(pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(),
                                           pattern::bind("reason")}),
                           guard);
  ASSERT_TRUE(down) << "the supervisor kept retrying an exec that fails";
  EXPECT_EQ(down[0], term(atoms::shutdown));
}

TEST_F(Commands, PortInfoDescribesTheOSChild) {
  pid port = start_linked(command("info", {"quit-on-term", ""}));
  ASSERT_TRUE(line_with("info", "ready"));
  auto info = svc().info(port);
  ASSERT_TRUE(info);
  EXPECT_GT(info->os_pid, 0);
  EXPECT_GT(info->node, 0U);
  EXPECT_GT(info->rss_kb, 0);
  EXPECT_EQ(info->program, test_child);
  EXPECT_EQ(info->log_key, "info");
  reference ref = box->ctx().make_ref();
  box->ctx().send(port, vigil::make_tuple(atom("port_info"), me_pid(), ref));
  auto reply = box->receive(pattern::tuple({term(ref), pattern::bind("info")}), guard);
  ASSERT_TRUE(reply);
  const term* os_pid_value = reply[0].find(atom("os_pid"));
  ASSERT_NE(os_pid_value, nullptr);
  EXPECT_EQ(os_pid_value->as_integer(), info->os_pid);
  EXPECT_EQ(svc().info(pid{}), std::nullopt);
}

TEST_F(Commands, EnvironmentCwdAndUmaskReachTheCommand) {
  auto c = command("env", {"env", "FOO"});
  c.os.env = {{"FOO", "from config"}};
  start_linked(c);
  EXPECT_TRUE(line_with("env", "env FOO=from config"));
  auto p = command("proc", {"proc", ""});
  p.os.cwd = "/tmp";
  p.os.umask = 027;
  start_linked(p);
  EXPECT_TRUE(line_with("proc", "umask=027 cwd=/tmp"));
}

TEST_F(Commands, APlainCommandRunsUnderItsOwnResourceLimits) {
  // The service's limit for every child comes first; the child's own overrides it.
  opts.rlimits = {{RLIMIT_NOFILE, 200, 200}, {RLIMIT_CORE, 1, 1}};
  auto c = command("limits", {});
  c.os.command = {"/bin/sh", "-c", "echo limits $(ulimit -n) $(ulimit -Hn) $(ulimit -c)"};
  c.os.rlimits = {{"nofile", {100, 777}}, {"core", {0, 0}}};
  start_linked(c);
  auto line = line_with("limits", "limits ");
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "limits 100 777 0");
}

TEST_F(Commands, AnUnknownResourceLimitFailsTheStart) {
  auto c = command("limits", {"exit", "0"});
  c.os.rlimits = {{"nofiles", {1, 1}}};
  box->ctx().trap_exit(true);
  auto port = svc().start(box->ctx(), c);
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().context, "unknown resource limit 'nofiles'");
}

TEST_F(Commands, DropsPrivilegesToTheConfiguredUser) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root";
  }
  auto c = command("nobody", {"ids", ""});
  // nobody must reach the program: the build tree may sit under a 0700 directory.
  c.os.command[0] = reachable_copy(test_child);
  if (c.os.command[0].empty()) {
    GTEST_SKIP() << "no directory under /tmp that nobody can reach";
  }
  c.os.user = "nobody";
  c.os.group = "65534";
  start_linked(c);
  auto line = line_with("nobody", "ids ");
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "ids 65534 65534 65534");
}

TEST_F(Commands, AnUnknownUserFailsTheStart) {
  auto c = command("ghost", {"ids", ""});
  c.os.user = "no-such-vigil-user";
  box->ctx().trap_exit(true);
  auto port = svc().start(box->ctx(), c);
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().context, "unknown user 'no-such-vigil-user'");
}

TEST_F(Stopping, StoppingAGroupLeavesNoGrandchild) {
  ASSERT_TRUE(become_subreaper());
  auto file = (dir / "grandchild.pid").string();
  pid sup = start_tree({command("family", {"grandchild", file})});
  pid port = child_pid(sup, "family");
  pid_t parent = os_pid(port);
  pid_t grandchild = 0;
  ASSERT_TRUE(eventually([&] {
    std::ifstream f(file);
    return static_cast<bool>(f >> grandchild);
  }));
  ASSERT_TRUE(supervision::terminate_child(*box, sup, "family"));
  EXPECT_TRUE(eventually([&] { return gone(parent) && gone(grandchild); }))
      << "a process of the group survived its stop (or was not reaped)";
  EXPECT_EQ(zombie_children(), 0);
}

TEST_F(Stopping, ReapingOrphansNeverStealsAWorkersStatus) {
  // vigild calls reap_orphans() on every SIGCHLD, racing the reactor for each exit: a status
  // it takes for an owned child must still reach that child's port.
  std::atomic<bool> stop{false};
  std::thread reaper([&] {
    while (!stop.load()) {
      (void)reap_orphans();
    }
  });
  for (int i = 0; i < 20; ++i) {
    pid port = start_linked(command("three", {"exit", "3"}));
    EXPECT_EQ(exit_reason(port), vigil::make_tuple(atom("exit_status"), 3)) << "round " << i;
  }
  stop.store(true);
  reaper.join();
}

TEST_F(Stopping, AChildThatIgnoresTheStopSignalIsKilledAfterShutdown) {
  auto c = command("stubborn", {"ignore-term", ""});
  c.shutdown = supervision::shutdown_policy::after(300ms);
  pid sup = start_tree({c});
  ASSERT_TRUE(line_with("stubborn", "ignoring SIGTERM"));
  pid_t child = os_pid(child_pid(sup, "stubborn"));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(supervision::terminate_child(*box, sup, "stubborn"));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(eventually([&] { return gone(child); }));
}

TEST_F(Stopping, KillingThePortKillsTheOSChild) {
  pid port = start_linked(command("victim", {"quit-on-term", ""}));
  pid_t child = os_pid(port);
  rt.exit(port, atoms::kill);
  EXPECT_EQ(exit_reason(port), term(atoms::killed));
  EXPECT_TRUE(eventually([&] { return gone(child); }));
}

TEST_F(Stopping, ATrappableExitSignalStopsWithTheStopSignalAndKeepsTheReason) {
  auto c = command("polite", {"quit-on-term", ""});
  c.os.stop_signal = "SIGINT";
  pid port = start_linked(c);
  pid_t child = os_pid(port);
  ASSERT_TRUE(line_with("polite", "ready"));
  rt.exit(port, atom("bye"));
  EXPECT_EQ(exit_reason(port), term(atom("bye")));
  EXPECT_TRUE(eventually([&] { return gone(child); }));
}

TEST_F(Logs, StdoutAndStderrAreCapturedLineByLine) {
  start_linked(command("talker", {"lines", "3"}));
  ASSERT_TRUE(line_with("talker", "done on stderr"));
  auto lines = svc().logs("talker", 10);
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0].line, "line 0");
  EXPECT_EQ(lines[0].stream, "stdout");
  EXPECT_EQ(lines[3].stream, "stderr");
  std::ifstream f(dir / "logs" / "talker.log");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(" stdout line 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" stderr done on stderr\n"), std::string::npos) << text;
}

TEST_F(Logs, LinesGoToTheDaemonsSinkWithThePort) {
  std::mutex m;
  std::vector<std::string> seen;
  opts.on_line = [&](const output_line& l) {
    std::lock_guard lock(m);
    seen.push_back(l.key + ":" + std::string(l.stream) + ":" + std::string(l.line));
  };
  start_linked(command("sink", {"lines", "1"}));
  // The service keeps a line (its file, its ring) before it hands it to the sink: waiting
  // for the line in svc().logs() would not mean the sink has it yet. Wait for the sink.
  auto seen_now = [&] {
    std::lock_guard lock(m);
    return seen;
  };
  EXPECT_TRUE(eventually([&] { return seen_now().size() >= 2; })) << seen_now().size();
  EXPECT_EQ(seen_now(),
            (std::vector<std::string>{"sink:stdout:line 0", "sink:stderr:done on stderr"}));
}

TEST_F(Logs, AGarbageWritingChildIsLoggedSafely) {
  start_linked(command("junk", {"garbage", "200000"}));
  ASSERT_TRUE(line_with("junk", "tail line"));
  for (const auto& e : svc().logs("junk", 100000)) {
    EXPECT_LE(e.line.size(), 3 * 16 * 1024U) << "lines are cut at 16 KiB of input";
    EXPECT_EQ(valid_utf8(e.line), e.line);
  }
}

} // namespace
} // namespace vigil::os::test
