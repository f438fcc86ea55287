// SPDX-License-Identifier: Apache-2.0
// What vigild does with the processes left after its tree stops: orphans that came to it as a
// subreaper get SIGTERM, then SIGKILL, and are reaped. (As PID 1 the same runs on kill(-1);
// tests/system/pid1_test.py covers that in a PID namespace.)
#include "init_mode.hpp"

#include "vigil/os/reaper.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

namespace vigil::daemon {
namespace {

using namespace std::chrono_literals;

bool alive(pid_t p) {
  return ::kill(p, 0) == 0;
}

/// Forks a child that forks a grandchild and exits at once; returns the grandchild, which
/// this process (a subreaper) then adopts. The grandchild ignores SIGTERM if asked.
pid_t make_orphan(bool ignore_sigterm) {
  std::array<int, 2> fds{};
  if (::pipe(fds.data()) != 0) {
    return -1;
  }
  pid_t child = ::fork();
  if (child == 0) {
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      if (ignore_sigterm) {
        ::signal(SIGTERM, SIG_IGN);
      }
      ::close(fds[1]); // the parent reads EOF once the disposition is in place
      for (;;) {
        ::pause();
      }
    }
    (void)::write(fds[1], &grandchild, sizeof grandchild);
    ::_exit(0);
  }
  ::close(fds[1]);
  pid_t grandchild = -1;
  (void)::read(fds[0], &grandchild, sizeof grandchild);
  char eof = 0;
  (void)::read(fds[0], &eof, 1); // EOF: both the child and the grandchild closed it
  ::close(fds[0]);
  (void)::waitpid(child, nullptr, 0);
  return grandchild;
}

class InitMode : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(os::become_subreaper()); }
};

TEST_F(InitMode, ListsTheChildrenOfAProcess) {
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  auto kids = children_of(::getpid());
  EXPECT_NE(std::find(kids.begin(), kids.end(), child), kids.end());
  ::kill(child, SIGKILL);
  (void)::waitpid(child, nullptr, 0);
}

TEST_F(InitMode, ReturnsAtOnceWhenNothingIsLeft) {
  // Nothing to wait for: it returns without waiting out the (long) grace.
  auto start = std::chrono::steady_clock::now();
  auto r = end_leftovers(600s);
  EXPECT_EQ(r.terminated + r.killed, 0U);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 300s);
}

TEST_F(InitMode, EndsAdoptedOrphansWithSigterm) {
  pid_t orphan = make_orphan(false);
  ASSERT_GT(orphan, 0);
  auto kids = children_of(::getpid());
  ASSERT_NE(std::find(kids.begin(), kids.end(), orphan), kids.end()) << "not adopted";
  // It returns once the orphan has gone, not when the (long) grace ends.
  auto start = std::chrono::steady_clock::now();
  auto r = end_leftovers(600s);
  EXPECT_EQ(r.terminated, 1U);
  EXPECT_EQ(r.killed, 0U);
  EXPECT_EQ(r.reaped, 1U);
  EXPECT_FALSE(alive(orphan));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 300s);
}

TEST_F(InitMode, KillsAnOrphanThatIgnoresSigtermAfterTheGrace) {
  pid_t stubborn = make_orphan(true);
  pid_t polite = make_orphan(false);
  ASSERT_GT(stubborn, 0);
  ASSERT_GT(polite, 0);
  auto start = std::chrono::steady_clock::now();
  auto r = end_leftovers(300ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.terminated, 2U);
  EXPECT_EQ(r.killed, 1U);
  EXPECT_EQ(r.reaped, 2U);
  EXPECT_FALSE(alive(stubborn));
  EXPECT_FALSE(alive(polite));
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2000ms);
}

TEST_F(InitMode, IsNotPid1InATestProcess) {
  EXPECT_FALSE(is_pid1());
}

} // namespace
} // namespace vigil::daemon
