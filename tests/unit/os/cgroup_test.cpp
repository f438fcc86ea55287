// SPDX-License-Identifier: Apache-2.0
// A cgroup per OS child (vigil/os/cgroup.hpp): the launch puts the child in its cgroup with
// clone3(CLONE_INTO_CGROUP), or, where clone3 is refused, the child moves itself before exec;
// cgroup.kill ends what left the process group. Skipped where no cgroup2 can be made.
#include "vigil/os/cgroup.hpp"

#include "vigil/os/launch.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace vigil::os::test {
namespace {

#ifndef P_PIDFD
#  define P_PIDFD 3
#endif

/// A cgroup of the test's own under the cgroup2 mount, removed at the end.
class CgroupTest : public ::testing::Test {
protected:
  void SetUp() override {
    mount_ = cgroup_tree::find_mount();
    if (::geteuid() != 0 || mount_.empty()) {
      GTEST_SKIP() << "needs root and a cgroup2 mount";
    }
    rel_ = "/vigiltest-unit-" + std::to_string(::getpid());
    path_ = mount_ + rel_;
    if (::mkdir(path_.c_str(), 0755) != 0) {
      GTEST_SKIP() << "cannot make " << path_ << ": " << std::strerror(errno);
    }
    dir_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir_);
  }

  void TearDown() override {
    if (dir_) {
      (void)cgroup_tree::kill_all(dir_.get());
      wait_empty();
      EXPECT_TRUE(cgroup_tree::remove(path_)) << std::strerror(errno);
    }
  }

  void wait_empty() {
    unique_fd events(::openat(dir_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(events);
    while (cgroup_tree::read_populated(events.get()).value_or(false)) {
      pollfd p{events.get(), POLLPRI, 0};
      ASSERT_GE(::poll(&p, 1, 10000), 0); // woken by the change; the bound only catches a hang
    }
  }

  /// Runs `argv` in the test's cgroup; returns its stdout once it has exited.
  std::string run(std::vector<std::string> argv) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    unique_fd read_end(p[0]);
    unique_fd write_end(p[1]);
    launch_spec spec;
    spec.program = argv.front();
    spec.argv = std::move(argv);
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.fds = {-1, write_end.get(), -1};
    spec.cgroup_fd = dir_.get();
    auto l = launch(spec);
    EXPECT_TRUE(l) << (l ? "" : l.error().message());
    write_end.reset();
    std::string out;
    if (!l) {
      return out;
    }
    char buf[4096];
    for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) {
      out.append(buf, static_cast<std::size_t>(n));
    }
    siginfo_t status{};
    EXPECT_EQ(::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(l->pidfd.get()), &status,
                       WEXITED),
              0);
    return out;
  }

  std::string mount_;
  std::string rel_;
  std::string path_;
  unique_fd dir_;
};

TEST_F(CgroupTest, TheChildStartsInItsCgroup) {
  std::string out = run({"/bin/cat", "/proc/self/cgroup"});
  EXPECT_NE(out.find("0::" + rel_ + "\n"), std::string::npos) << out;
#if !defined(__SANITIZE_THREAD__)
  EXPECT_TRUE(clone_into_cgroup_works()); // under TSan the launcher forks: no clone3
#endif
}

#if defined(__x86_64__)
TEST_F(CgroupTest, WhereClone3IsRefusedTheChildMovesItselfIn) {
  // As Docker's default seccomp profile does: clone3 fails with ENOSYS. The filter is set on
  // a thread of its own (and the children it starts), not on the test's other threads.
  std::string out;
  std::thread t([&] {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435 /* clone3 */, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    ASSERT_EQ(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    ASSERT_EQ(::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0) << std::strerror(errno);
    out = run({"/bin/cat", "/proc/self/cgroup"});
  });
  t.join();
  EXPECT_NE(out.find("0::" + rel_ + "\n"), std::string::npos) << out;
  EXPECT_FALSE(clone_into_cgroup_works());
  // And from now on without trying clone3 first.
  out = run({"/bin/cat", "/proc/self/cgroup"});
  EXPECT_NE(out.find("0::" + rel_ + "\n"), std::string::npos) << out;
}
#endif

TEST_F(CgroupTest, KillAllEndsWhatLeftTheProcessGroup) {
  // The shell prints the pid of a grandchild in a session of its own, then exits.
  std::string out = run({"/bin/sh", "-c", "setsid sleep 1000 >/dev/null 2>&1 & echo $!"});
  int grandchild = std::stoi(out);
  ASSERT_EQ(::kill(grandchild, 0), 0);
  EXPECT_TRUE(cgroup_tree::populated(dir_.get()));
  auto procs = cgroup_tree::procs(path_);
  EXPECT_NE(std::find(procs.begin(), procs.end(), grandchild), procs.end());
  EXPECT_TRUE(cgroup_tree::kill_all(dir_.get()));
  wait_empty();
  EXPECT_FALSE(cgroup_tree::populated(dir_.get()));
  EXPECT_TRUE(cgroup_tree::procs(path_).empty());
}

std::string read_text(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) {
      out.append(buf, n);
    }
    std::fclose(f);
  }
  return out;
}

TEST(CgroupLimits, AChildStartsUnderItsLimitsInEveryHierarchyThatHoldsThem) {
  if (::geteuid() != 0 || cgroup_tree::find_mount().empty()) {
    GTEST_SKIP() << "needs root and a cgroup2 mount";
  }
  cgroup_config config;
  config.mode = "auto";
  auto tree = cgroup_tree::open(config); // moves this process into its leaf until destroyed
  if (!tree) {
    GTEST_SKIP() << "no cgroup tree can be made here";
  }
  supervision::cgroup_limits limits;
  limits.memory = 32ULL << 20;
  limits.pids = 10;
  auto c = tree->make("limited-1", limits);
  ASSERT_TRUE(c) << c.error().message();
  if (!c->refused.empty()) {
    GTEST_SKIP() << "the controllers are not reachable here: " << c->refused.front();
  }
  // v2 where the controller is delegated, else the hybrid host's v1 directory.
  std::string memory = c->v1.memory.empty() ? read_text(c->path + "/memory.max")
                                            : read_text(c->v1.memory + "/memory.limit_in_bytes");
  EXPECT_EQ(std::stoull(memory), 32ULL << 20);
  std::string pids = read_text((c->v1.pids.empty() ? c->path : c->v1.pids) + "/pids.max");
  EXPECT_EQ(std::stoull(pids), 10U);

  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  unique_fd read_end(p[0]);
  unique_fd write_end(p[1]);
  launch_spec spec;
  spec.program = "/bin/cat";
  spec.argv = {"/bin/cat", "/proc/self/cgroup"};
  spec.fds = {-1, write_end.get(), -1};
  spec.cgroup_fd = c->dir.get();
  for (const auto& fd : c->v1_procs) {
    spec.v1_cgroup_procs.push_back(fd.get());
  }
  auto l = launch(spec);
  ASSERT_TRUE(l) << l.error().message();
  write_end.reset();
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  siginfo_t status{};
  ASSERT_EQ(
      ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(l->pidfd.get()), &status, WEXITED),
      0);
  std::string leaf = c->path.substr(c->path.rfind('/'));
  EXPECT_NE(out.find(leaf + "\n"), std::string::npos) << out;
  if (!c->v1.memory.empty()) {
    EXPECT_NE(out.find(":memory:"), std::string::npos) << out;
    EXPECT_NE(out.find(leaf + "\n", out.find(":memory:")), std::string::npos) << out;
  }
  EXPECT_EQ(cgroup_tree::oom_kills(c->path, c->v1), 0U);
  auto used = cgroup_tree::usage(c->path, c->v1);
  EXPECT_TRUE(used.cpu_usec.has_value());
  EXPECT_EQ(used.pids.value_or(0), 0U); // cat is gone
  (void)cgroup_tree::remove(c->path);
  cgroup_tree::remove_v1(c->v1);
  EXPECT_FALSE(c->v1.memory.empty() && ::access(c->v1.memory.c_str(), F_OK) == 0);
}

TEST(CgroupTree, OffIsNoTree) {
  cgroup_config c;
  c.mode = "off";
  int warnings = 0;
  c.on_warning = [&](const std::string&) { ++warnings; };
  EXPECT_EQ(cgroup_tree::open(c), nullptr);
  EXPECT_EQ(warnings, 0);
}

} // namespace
} // namespace vigil::os::test
