// SPDX-License-Identifier: Apache-2.0
// Where the scheduler runs work with 2 threads: an idle thread leaves short work where it was
// queued, but takes a queue that would keep the busy thread long, and busy processes that
// yield with long turns spread over both threads.
#include "runtime_fixture.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <thread>
#include <utility>

namespace vigil::test {
namespace {

/// Holds its thread for `burn` without suspending, then tells `to` which thread that was.
task<> burner(context& self, pid to, std::chrono::microseconds burn) {
  const auto until = std::chrono::steady_clock::now() + burn;
  while (std::chrono::steady_clock::now() < until) {
  }
  const auto thread = std::hash<std::thread::id>{}(std::this_thread::get_id());
  self.send(to, make_tuple(atoms::ok, static_cast<std::int64_t>(thread)));
  co_return;
}

// A process spawns 8 processes that each hold their thread 300 us, well under the bound after
// which an idle thread takes what a busy one runs next (1 ms), then waits for them. Together
// they would keep the spawner's thread ~2.4 ms, so the other thread must take some of them:
// a queue of long work spreads, though a spawner's trivially short children do not. Rounds
// repeat until two threads have run burners (a busy machine may keep the other thread off
// its core for a round); long_run_warning is far off so that the watchdog cannot move them.
TEST(Scheduling, AQueueOfLongTurnsSpreadsOverBothThreads) {
  runtime_options o{.schedulers = 2, .long_run_warning = 60s};
  o.on_warning = [](const std::string&) {};
  runtime rt(std::move(o));
  auto box = rt.make_mailbox();
  pid me = box->self();
  rt.spawn([me](context& self) -> task<> {
    const auto deadline = std::chrono::steady_clock::now() + runtime_test::guard;
    std::set<std::int64_t> threads;
    while (threads.size() < 2 && std::chrono::steady_clock::now() < deadline) {
      for (int i = 0; i < 8; ++i) {
        self.spawn(burner, self.self(), std::chrono::microseconds(300));
      }
      for (int i = 0; i < 8; ++i) {
        auto r = co_await self.receive();
        threads.insert(r.message[1].as_integer());
      }
    }
    self.send(me, make_tuple(atoms::ok, static_cast<std::int64_t>(threads.size())));
  });
  auto r = box->receive(runtime_test::guard + 5s);
  ASSERT_TRUE(r) << "the spawner never answered";
  EXPECT_EQ(r.message[1].as_integer(), 2) << "every burner ran on one thread";
  box.reset();
  rt.shutdown();
}

/// Runs turns of `burn` each, yielding between them, until `stop` is set; reports to `to`
/// each thread it has run on, once.
task<> yielder(context& self, pid to, std::chrono::microseconds burn,
               std::shared_ptr<std::atomic<bool>> stop) {
  std::set<std::int64_t> seen;
  while (!stop->load()) {
    const auto until = std::chrono::steady_clock::now() + burn;
    while (std::chrono::steady_clock::now() < until) {
    }
    const auto thread =
        static_cast<std::int64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    if (seen.insert(thread).second) {
      self.send(to, make_tuple(atoms::ok, thread));
    }
    co_await self.yield();
  }
}

/// Spawns, from one process, two yielders with turns of `burn`, and returns how many threads
/// they have run on once both threads have (or at the guard, if not).
std::size_t threads_of_two_yielders(std::chrono::microseconds burn) {
  runtime_options o{.schedulers = 2, .long_run_warning = 60s};
  o.on_warning = [](const std::string&) {};
  runtime rt(std::move(o));
  auto box = rt.make_mailbox();
  pid me = box->self();
  auto stop = std::make_shared<std::atomic<bool>>(false);
  rt.spawn([me, stop, burn](context& self) -> task<> {
    for (int i = 0; i < 2; ++i) {
      self.spawn(yielder, me, burn, stop);
    }
    co_return;
  });
  std::set<std::int64_t> threads;
  const auto deadline = std::chrono::steady_clock::now() + runtime_test::guard;
  while (threads.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    if (auto r = box->receive(100ms)) {
      threads.insert(r.message[1].as_integer());
    }
  }
  stop->store(true);
  box.reset();
  rt.shutdown();
  return threads.size();
}

// Two processes that never wait, each yielding after every 500 us of work (a busy worker
// that uses up its reductions does the same), spawned by one process. Each turn is shorter
// than the 1 ms after which an idle thread takes held work, but the turns are long (over
// ~200 us), so a move to the other core costs little: they must not alternate on one thread
// while the other sleeps. The watchdog is far off, so only the scheduler can spread them.
TEST(Scheduling, BusyProcessesYieldingAfterHalfAMillisecondSpreadOverBothThreads) {
  EXPECT_EQ(threads_of_two_yielders(std::chrono::microseconds(500)), 2U)
      << "both busy processes stayed on one thread";
}

// The same with 2 ms turns: each process waits 2 ms, over the 1 ms after which an idle
// thread takes held work, behind every turn of the other.
TEST(Scheduling, BusyProcessesYieldingAfterTwoMillisecondsSpreadOverBothThreads) {
  EXPECT_EQ(threads_of_two_yielders(std::chrono::microseconds(2000)), 2U)
      << "both busy processes stayed on one thread";
}

} // namespace
} // namespace vigil::test
