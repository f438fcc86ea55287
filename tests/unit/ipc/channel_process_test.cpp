// SPDX-License-Identifier: Apache-2.0
// Channels between this process (the daemon's end) and real fork()ed children (the
// worker's end), including children killed mid-traffic and children that write garbage.
#include "vigil/ipc/channel.hpp"

#include "ipc_echo.hpp"
#include "ipc_test_support.hpp"
#include "term_generator.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>

namespace vigil::ipc {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using ipc_test::echo;
using ipc_test::fork_child;
using ipc_test::reap;
using ipc_test::worker_options;

const atom a_stop("stop");

void expect_echoes(channel& ch, int count) {
  for (std::uint64_t seed = 0; seed < static_cast<std::uint64_t>(count); ++seed) {
    term t = vigil::test::term_generator(seed).next(3);
    if (encoded_size(t) > 2048) {
      t = term(static_cast<std::int64_t>(seed));
    }
    ASSERT_EQ(*ch.send(t, {full_policy::wait, 10s}), send_status::sent);
    auto back = ch.receive(10s);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    ASSERT_TRUE(back->has_value()) << "seed " << seed;
    ASSERT_EQ(**back, t) << "seed " << seed;
  }
}

TEST(ChannelProcess, ForkedChildEchoesTermsThroughItsInheritedDescriptor) {
  VIGIL_SKIP_FORK_UNDER_TSAN();
  auto ch = channel::create();
  ASSERT_TRUE(ch.has_value());
  int fd = ch->fd();
  pid_t pid = fork_child([fd] { return echo(unique_fd(::dup(fd))); });
  ASSERT_GT(pid, 0);
  auto ok = ch->accept(pid, 10s);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  expect_echoes(*ch, 3000);
  ASSERT_EQ(*ch->send(term(a_stop)), send_status::sent);
  EXPECT_EQ(reap(pid), 0);
  auto after = ch->receive(1s);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, std::make_error_code(std::errc::connection_reset));
}

TEST(ChannelProcess, ExecedChildAttachesThroughAnInheritedDescriptor) {
  VIGIL_SKIP_FORK_UNDER_TSAN();
  auto ch = channel::create();
  ASSERT_TRUE(ch.has_value());
  int fd = ch->fd();
  // What a spawner does: dup2 onto an agreed number clears close-on-exec on the copy, and the
  // program learns the number from its command line.
  constexpr int child_fd = 100;
  std::string child_fd_arg = std::to_string(child_fd);
  pid_t pid = fork_child([fd, &child_fd_arg] {
    if (::dup2(fd, child_fd) != child_fd) {
      return 20;
    }
    ::execl(VIGIL_IPC_ECHO_CHILD, "ipc_echo_child", child_fd_arg.c_str(), nullptr);
    return 21;
  });
  ASSERT_GT(pid, 0);
  auto ok = ch->accept(pid, 30s);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  expect_echoes(*ch, 300);
  ASSERT_EQ(*ch->send(term(a_stop)), send_status::sent);
  EXPECT_EQ(reap(pid), 0);
}

TEST(ChannelProcess, AcceptFailsWhenTheChildExitsBeforeAttaching) {
  VIGIL_SKIP_FORK_UNDER_TSAN();
  auto ch = channel::create();
  ASSERT_TRUE(ch.has_value());
  pid_t pid = fork_child([] { return 0; });
  ASSERT_GT(pid, 0);
  auto ok = ch->accept(pid, 10s);
  ASSERT_FALSE(ok.has_value());
  EXPECT_EQ(ok.error().code, std::make_error_code(std::errc::connection_reset));
  EXPECT_NE(ok.error().context.find(std::to_string(pid)), std::string::npos);
  EXPECT_EQ(reap(pid), 0);
}

/// The worker side of the kill test: sends checksummed terms as fast as the ring allows
/// until it is killed.
int flood(unique_fd fd) {
  auto ch = channel::attach(std::move(fd), worker_options());
  if (!ch) {
    return 10;
  }
  for (std::int64_t seq = 0;; ++seq) {
    auto s = ch->send(ipc_test::checked_term(seq), {full_policy::wait, 10s});
    if (!s || *s != send_status::sent) {
      return 11;
    }
  }
}

/// One round: returns the terms received before the writer's death was reported.
std::int64_t drain_until_killed(std::mt19937& rng) {
  channel_options options;
  options.ring_capacity = 4096;
  options.liveness_interval = 2ms;
  auto ch = channel::create(options);
  EXPECT_TRUE(ch.has_value());
  int fd = ch->fd();
  pid_t pid = fork_child([fd] { return flood(unique_fd(::dup(fd))); });
  EXPECT_TRUE(ch->accept(pid, 10s).has_value());
  auto kill_at = steady::now() + std::chrono::microseconds(rng() % 3000);
  bool killed = false;
  std::int64_t seq = 0;
  for (;;) {
    if (!killed && steady::now() >= kill_at) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    auto start = steady::now();
    auto got = ch->receive(killed ? 5s : 100us);
    EXPECT_LT(steady::now() - start, 6s) << "receive outlived its bound";
    if (!got.has_value()) {
      EXPECT_TRUE(killed) << got.error().message();
      EXPECT_EQ(got.error().code, std::make_error_code(std::errc::connection_reset))
          << got.error().message();
      break;
    }
    if (!got->has_value()) {
      EXPECT_FALSE(killed) << "a dead writer must be reported, not waited for";
      if (killed) {
        break;
      }
      continue;
    }
    EXPECT_TRUE(ipc_test::is_checked_term(**got, seq)) << "torn, lost or reordered: " << seq;
    ++seq;
  }
  EXPECT_EQ(reap(pid), 128 + SIGKILL);
  return seq;
}

TEST(ChannelKill, KilledWriterNeverHangsTheReaderNorTearsAFrame) {
  VIGIL_SKIP_FORK_UNDER_TSAN();
  int maps = ipc_test::mapped_segments();
  int fds = ipc_test::open_segments();
  std::mt19937 rng(20261126);
  std::int64_t total = 0;
  for (int round = 0; round < 200 && !HasFailure(); ++round) {
    total += drain_until_killed(rng);
    ASSERT_EQ(ipc_test::mapped_segments(), maps) << "round " << round << " left a mapping";
    ASSERT_EQ(ipc_test::open_segments(), fds) << "round " << round << " left a descriptor";
  }
  EXPECT_GT(total, 1000) << "the writers hardly wrote anything";
  RecordProperty("terms_received", std::to_string(total));
}

TEST(ChannelGarbage, AChildWritingGarbageBreaksOnlyItsOwnChannel) {
  VIGIL_SKIP_FORK_UNDER_TSAN();
  auto bad = channel::create();
  auto good = channel::create();
  ASSERT_TRUE(bad.has_value() && good.has_value());
  int bad_fd = bad->fd();
  int good_fd = good->fd();
  pid_t vandal = fork_child([bad_fd] {
    auto ch = channel::attach(unique_fd(::dup(bad_fd)), worker_options());
    if (!ch) {
      return 10;
    }
    auto& h = *reinterpret_cast<channel_header*>(ch->memory().data());
    auto up = ring_view::attach(ch->memory().subspan(h.to_creator_offset));
    ring_writer raw(*up);
    std::string frame = encode(term("fine"));
    frame[1] = '\x40'; // the length byte now claims 64 more bytes than were written
    (void)raw.try_write_frame(std::as_bytes(std::span(frame)));
    ::pause();
    return 0;
  });
  pid_t worker = fork_child([good_fd] { return echo(unique_fd(::dup(good_fd))); });
  ASSERT_TRUE(bad->accept(vandal, 10s).has_value());
  ASSERT_TRUE(good->accept(worker, 10s).has_value());
  auto r = bad->receive(10s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, make_error_code(errc::decode_error));
  EXPECT_NE(r.error().context.find("channel to process " + std::to_string(vandal)),
            std::string::npos)
      << r.error().context;
  EXPECT_NE(r.error().context.find("overruns"), std::string::npos) << r.error().context;
  expect_echoes(*good, 200);
  ::kill(vandal, SIGKILL);
  EXPECT_EQ(reap(vandal), 128 + SIGKILL);
  ASSERT_EQ(*good->send(term(a_stop)), send_status::sent);
  EXPECT_EQ(reap(worker), 0);
}

} // namespace
} // namespace vigil::ipc
