// SPDX-License-Identifier: Apache-2.0
// A worker that stops reading its ring: its port holds messages back without waking the
// daemon all the time, and hands them over, all and in order, once the worker reads again.
#include "os_fixture.hpp"

#include <dirent.h>
#include <signal.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

namespace vigil::os::test {
namespace {

/// How many terms of 30,000 bytes the `stall` worker sends itself: two fill the 64 KiB ring.
constexpr std::int64_t terms = 8;

class StuckWorker : public os_test {
protected:
  /// Has the `stall` worker behind `port` fill its own ring and stop reading it.
  void stall_with_a_full_ring(pid port) {
    box->ctx().send(port, vigil::make_tuple(me_pid(), terms));
    ASSERT_TRUE(box->receive(atoms::ok, guard)) << "the worker never stalled";
    ASSERT_TRUE(eventually([&] {
      auto info = svc().info(port);
      return info && info->ring_to_worker_bytes > opts.ring_capacity / 2;
    })) << "the worker's ring never filled";
  }
};

/// Voluntary context switches of every thread of this process (the runtime's schedulers and
/// timer, the OS reactor, the test): each is one wake-up after a sleep.
std::uint64_t voluntary_switches() {
  std::uint64_t total = 0;
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) {
    return total;
  }
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') {
      continue;
    }
    std::ifstream status(std::string("/proc/self/task/") + e->d_name + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.starts_with("voluntary_ctxt_switches:")) {
        total += std::stoull(line.substr(line.find(':') + 1));
      }
    }
  }
  ::closedir(d);
  return total;
}

TEST_F(StuckWorker, APortHoldingMessagesForAWorkerThatStoppedReadingLetsTheDaemonSleep) {
  // A hung or hostile worker must not make the daemon (root's, often) burn wake-ups for as
  // long as it stays stuck: the port used to retry its full ring every millisecond.
  pid port = start_linked(command("stall", {"stall", ""}));
  stall_with_a_full_ring(port);

  // The window is a count of wake-ups, not a time: a slow machine only makes it smaller.
  // Retrying every millisecond woke ~1,000 times a second; a bounded back-off, a few dozen.
  // The sleep is the window itself, not a wait for an event: nothing has to happen in it,
  // so it cannot end too early or too late for the assertion.
  std::uint64_t before = voluntary_switches();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::uint64_t woke = voluntary_switches() - before;
  EXPECT_LT(woke, 100U) << "the daemon woke " << woke
                        << " times in 2 s for a worker that does not read";

  // The worker reads again: it gets every held-back term, in order.
  ASSERT_EQ(::kill(os_pid(port), SIGUSR1), 0);
  auto got = box->receive(pattern::tuple({atoms::ok, pattern::bind("n")}), guard);
  ASSERT_TRUE(got) << "the worker never got its backlog";
  EXPECT_EQ(got[0], term(terms)) << "terms lost or reordered";
  box->ctx().exit(port, atoms::kill);
  EXPECT_EQ(exit_reason(port), term(atoms::killed));
}

TEST_F(StuckWorker, AStuckWorkerHammeringItsWakeEventfdGetsNoFloodOfRetriesNorStarvesOthers) {
  // The worker's wake eventfd is how it tells its port that it freed room; a hostile one
  // signals it without end while it reads nothing. Its port must get at most one retry
  // waiting at a time (its mailbox does not grow), other children must still be served,
  // and nothing held back may be lost.
  pid port = start_linked(command("hammer", {"stall", "hammer"}));
  auto echo = command("sdk", {});
  echo.os.command = {VIGIL_SDK_ECHO_BIN};
  pid echo_port = start_linked(echo);
  stall_with_a_full_ring(port);
  for (int i = 0; i < 50; ++i) {
    box->ctx().send(echo_port, vigil::make_tuple(me_pid(), atoms::ping));
    auto r = box->receive(guard);
    ASSERT_TRUE(r) << "the echo was starved";
    EXPECT_EQ(r.message, vigil::make_tuple(atoms::ok, atoms::pong));
    auto queued = rt.info(port);
    ASSERT_TRUE(queued);
    EXPECT_LE(queued->message_queue_len, 2U) << "retries piled up in the port's mailbox";
  }
  ASSERT_EQ(::kill(os_pid(port), SIGUSR1), 0);
  auto got = box->receive(pattern::tuple({atoms::ok, pattern::bind("n")}), guard);
  ASSERT_TRUE(got) << "the worker never got its backlog";
  EXPECT_EQ(got[0], term(terms)) << "terms lost or reordered";
  box->ctx().exit(echo_port, atoms::kill);
  EXPECT_EQ(exit_reason(echo_port), term(atoms::killed));
  box->ctx().exit(port, atoms::kill);
  EXPECT_EQ(exit_reason(port), term(atoms::killed));
}

} // namespace
} // namespace vigil::os::test
