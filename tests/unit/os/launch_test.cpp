// SPDX-License-Identifier: Apache-2.0
// The launcher on its own: what a child gets (session, descriptors, signals, environment,
// credentials) and how exec failures come back.
#include "vigil/os/launch.hpp"

#include "vigil/os/exit_reason.hpp"

#include "os_fixture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

namespace vigil::os::test {
namespace {

#ifndef P_PIDFD
#  define P_PIDFD 3
#endif

struct run_result {
  std::string output;
  siginfo_t status{};
};

/// Launches test_child with `args` and its stdout on a pipe; returns what it printed and its
/// status. `tweak` adjusts the spec.
run_result run(std::vector<std::string> args, const std::function<void(launch_spec&)>& tweak = {}) {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  unique_fd read_end(p[0]);
  unique_fd write_end(p[1]);
  launch_spec spec;
  spec.program = test_child;
  spec.argv = {test_child};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.argv.push_back("then-exit");
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.fds = {-1, write_end.get(), -1};
  if (tweak) {
    tweak(spec);
  }
  auto l = launch(spec);
  EXPECT_TRUE(l) << (l ? "" : l.error().message());
  write_end.reset();
  run_result out;
  if (!l) {
    return out;
  }
  char buf[4096];
  for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) {
    out.output.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(l->pidfd.get()), &out.status,
                     WEXITED),
            0);
  return out;
}

TEST(Launch, TheChildLeadsItsOwnSessionWithTheParentDeathSignal) {
  auto r = run({"proc", ""});
  int pid = 0;
  int sid = 0;
  int pgrp = 0;
  int sig = 0;
  ASSERT_EQ(std::sscanf(r.output.c_str(), "proc pid=%d sid=%d pgrp=%d pdeathsig=%d", &pid, &sid,
                        &pgrp, &sig),
            4)
      << r.output;
  EXPECT_EQ(sid, pid);
  EXPECT_EQ(pgrp, pid);
  EXPECT_EQ(sig, SIGKILL);
}

TEST(Launch, SignalsAreUnblockedAndNotIgnoredInTheChild) {
  sigset_t term_only;
  sigset_t old;
  ::sigemptyset(&term_only);
  ::sigaddset(&term_only, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &term_only, &old);
  auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
  auto r = run({"proc", ""});
  ::signal(SIGPIPE, old_pipe);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_NE(r.output.find("blocked_term=0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pipe_ignored=0"), std::string::npos) << r.output;
}

TEST(Launch, OnlyTheGivenDescriptorsReachTheChild) {
  int leaked = ::open("/dev/null", O_RDONLY); // not close-on-exec: must not leak anyway
  int extra = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto r = run({"fds", ""}, [&](launch_spec& s) { s.fds.push_back(extra); });
  ::close(leaked);
  ::close(extra);
  EXPECT_EQ(r.output, "fds 0 1 2 3\n");
}

TEST(Launch, CwdUmaskAndEnvironmentAreApplied) {
  auto r = run({"proc", ""}, [](launch_spec& s) {
    s.cwd = "/tmp";
    s.umask = 027;
  });
  EXPECT_NE(r.output.find("umask=027 cwd=/tmp"), std::string::npos) << r.output;
  auto e = run({"env", "FOO"}, [](launch_spec& s) { s.env.push_back("FOO=bar baz"); });
  EXPECT_EQ(e.output, "env FOO=bar baz\n");
  auto home = run({"env", "HOME"});
  EXPECT_EQ(home.output, "env HOME=(unset)\n") << "the environment is exactly the given one";
}

TEST(Launch, ResourceLimitsAreSet) {
  auto r = run({"exit", "0"}, [](launch_spec& s) {
    s.rlimits.push_back(rlimit_setting{RLIMIT_CORE, 0, 0});
  });
  EXPECT_EQ(r.status.si_code, CLD_EXITED);
}

TEST(Launch, AMissingProgramIsENOENT) {
  launch_spec spec;
  spec.program = "/nonexistent/vigil-prog";
  spec.argv = {spec.program};
  auto l = launch(spec);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, std::error_code(ENOENT, std::system_category()));
  EXPECT_EQ(l.error().context, "exec /nonexistent/vigil-prog: No such file or directory (ENOENT)");
}

TEST(Launch, ANonExecutableFileIsEACCES) {
  char path[] = "/tmp/vigil-noexec-XXXXXX";
  int fd = ::mkstemp(path);
  ::fchmod(fd, 0644);
  ::close(fd);
  launch_spec spec;
  spec.program = path;
  spec.argv = {path};
  auto l = launch(spec);
  ::unlink(path);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, std::error_code(EACCES, std::system_category()));
  EXPECT_NE(l.error().context.find("(EACCES)"), std::string::npos) << l.error().context;
}

TEST(Launch, ABadWorkingDirectoryNamesTheStep) {
  launch_spec spec;
  spec.program = test_child;
  spec.argv = {test_child};
  spec.cwd = "/nonexistent-dir";
  auto l = launch(spec);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().context, "change directory for " + test_child
                                   + " (cwd /nonexistent-dir): No such file or directory (ENOENT)");
}

TEST(Launch, ProgramsAreLookedUpInThePathOfTheirEnvironment) {
  auto sh = resolve_program("sh", {"PATH=/nonexistent:/bin"});
  ASSERT_TRUE(sh);
  EXPECT_EQ(*sh, "/bin/sh");
  auto none = resolve_program("no-such-vigil-program", {"PATH=/bin:/usr/bin"});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().context, "command 'no-such-vigil-program' not found in PATH "
                                  "(/bin:/usr/bin): No such file or directory (ENOENT)");
  EXPECT_EQ(*resolve_program("./x", {}), "./x") << "a name with a slash is taken as it is";
}

TEST(ExitReason, FollowsTheStatus) {
  siginfo_t info{};
  info.si_code = CLD_EXITED;
  info.si_status = 0;
  EXPECT_EQ(exit_reason(info), term(atoms::normal));
  info.si_status = 3;
  EXPECT_EQ(exit_reason(info), vigil::make_tuple(atom("exit_status"), 3));
  info.si_code = CLD_KILLED;
  info.si_status = SIGSEGV;
  EXPECT_EQ(exit_reason(info), vigil::make_tuple(atom("signal"), atom("SIGSEGV")));
  info.si_code = CLD_DUMPED;
  info.si_status = SIGABRT;
  EXPECT_EQ(exit_reason(info), vigil::make_tuple(atom("signal"), atom("SIGABRT")));
}

TEST(ExitReason, ParsesSignalNamesAsTheConfigWritesThem) {
  EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(parse_signal("TERM"), SIGTERM);
  EXPECT_EQ(parse_signal("usr1"), SIGUSR1);
  EXPECT_EQ(parse_signal("SIGNOPE"), std::nullopt);
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(40), "SIG40");
}

} // namespace
} // namespace vigil::os::test
