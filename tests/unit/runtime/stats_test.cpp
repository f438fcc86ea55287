// SPDX-License-Identifier: Apache-2.0
// The runtime's stats (vigil/runtime/stats.hpp), read from a thread that is no scheduler as
// vigild's /metrics reads them: reductions grow as processes run, run queues fill while
// processes wait for a thread and empty when they are done, long mailboxes are found with
// their names, capped, and the walk stays safe while processes exit under it.
#include "vigil/runtime/stats.hpp"

#include "runtime_fixture.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace vigil::test {
namespace {

using Stats = runtime_test;

const atom stop("stop");
const atom junk("junk");

/// Polls `done` until it holds or the guard runs out: the stats are published by the
/// schedulers as they go, with no event to wait on. The 1 ms pause only paces the re-reads;
/// it cannot race, since the verdict is the state once published, however late that is.
bool eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(1ms);
  }
  return done();
}

std::size_t queued(runtime& rt) {
  auto s = read_stats(rt);
  std::size_t total = s.shared_run_queue_length;
  for (const auto& q : s.schedulers) {
    total += q.run_queue_length;
  }
  return total;
}

task<> echo(context& self) {
  for (;;) {
    auto m = co_await self.receive();
    if (m.message.is_pid()) {
      self.send(m.message.as_pid(), atoms::ok);
    }
  }
}

/// Keeps every message but `stop`, so its mailbox only grows.
task<> hoarder(context& self) {
  co_await self.receive(pattern::literal(term(stop)));
}

TEST_F(Stats, ReportsOneEntryPerSchedulerAndTheLiveProcesses) {
  auto s = read_stats(rt);
  EXPECT_EQ(s.schedulers.size(), rt.schedulers());
  EXPECT_EQ(s.processes, rt.process_count());
}

// A turn's reductions count when the process's next turn starts, so the count lags by at
// most one turn per process: a small turn budget keeps that lag small here.
TEST(StatsReductions, GrowAsAProcessTakesMessagesLaggingAtMostOneTurn) {
  constexpr std::uint32_t budget = 10;
  runtime rt{runtime_options{.schedulers = 2, .reductions_per_turn = budget}};
  auto box = rt.make_mailbox();
  pid worker = rt.spawn(echo);
  const std::uint64_t before = read_stats(rt).reductions();
  constexpr std::uint64_t rounds = 200;
  for (std::uint64_t i = 0; i < rounds; ++i) {
    box->ctx().send(worker, box->self());
    auto reply = box->receive(runtime_test::guard);
    ASSERT_TRUE(reply) << "no reply from echo";
  }
  // Each round takes one message and runs one resumption: at least a reduction each.
  EXPECT_GE(read_stats(rt).reductions() - before, rounds - budget);
  box.reset();
  rt.shutdown();
}

TEST_F(Stats, RunQueuesHoldProcessesWaitingForAThreadAndEmptyWhenTheyAreDone) {
  auto running = std::make_shared<std::atomic<bool>>(true);
  constexpr int spinners = 8; // more than the two schedulers can run at once
  std::vector<pid> pids;
  for (int i = 0; i < spinners; ++i) {
    pids.push_back(rt.spawn([running](context& self) -> task<> {
      while (running->load(std::memory_order_relaxed)) {
        co_await self.yield();
      }
    }));
  }
  EXPECT_TRUE(eventually([&] { return queued(rt) > 0; })) << "no queued process seen";
  running->store(false);
  for (pid p : pids) {
    await_death(p);
  }
  EXPECT_TRUE(eventually([&] { return queued(rt) == 0; })) << "run queues did not empty";
}

TEST(StatsRunNext, AProcessWokenByARunningOneCountsAsQueuedUntilItRuns) {
  // One thread, so nothing can take the woken process: it waits in the thread's run-next
  // slot (it runs next, once the running one suspends) while its spawner holds the thread.
  runtime rt{runtime_options{.schedulers = 1}};
  auto box = rt.make_mailbox();
  auto hold = std::make_shared<std::atomic<bool>>(true);
  pid me = box->self();
  rt.spawn([hold, me](context& self) -> task<> {
    self.spawn([me](context& child) -> task<> {
      child.send(me, atoms::ok);
      co_return;
    });
    while (hold->load(std::memory_order_relaxed)) {
      std::this_thread::yield(); // holds the thread without suspending
    }
    co_return;
  });
  EXPECT_TRUE(eventually([&] { return read_stats(rt).schedulers.at(0).run_queue_length == 1; }))
      << "the process waiting in the run-next slot is not counted";
  hold->store(false);
  EXPECT_TRUE(box->receive(runtime_test::guard)) << "the woken process never ran";
  EXPECT_TRUE(eventually([&] { return queued(rt) == 0; })) << "run queues did not empty";
  box.reset();
  rt.shutdown();
}

TEST_F(Stats, AMailboxOverTheThresholdIsFoundWithItsNameAndLength) {
  pid slow = *rt.spawn_opt({.name = atom("stats_slow_consumer")}, hoarder);
  pid small = rt.spawn(hoarder);
  constexpr std::uint32_t backlog = 1500;
  for (std::uint32_t i = 0; i < backlog; ++i) {
    box->ctx().send(slow, junk);
  }
  for (int i = 0; i < 10; ++i) {
    box->ctx().send(small, junk);
  }
  long_mailboxes_result seen;
  EXPECT_TRUE(eventually([&] {
    seen = long_mailboxes(rt, 1000, 10);
    return seen.longest.size() == 1 && seen.longest[0].length == backlog;
  })) << "the long mailbox was not found";
  ASSERT_EQ(seen.longest.size(), 1U) << "only the process over the threshold is listed";
  EXPECT_EQ(seen.over_threshold, 1U);
  EXPECT_EQ(seen.longest[0].process, slow);
  EXPECT_EQ(seen.longest[0].registered_name, atom("stats_slow_consumer"));

  box->ctx().send(slow, stop);
  await_death(slow);
  EXPECT_TRUE(long_mailboxes(rt, 1000, 10).longest.empty()) << "a dead process is listed";
  EXPECT_EQ(long_mailboxes(rt, 10, 10).longest.at(0).process, small);
}

TEST_F(Stats, TheListIsCappedLongestFirstAndCountsTheRest) {
  std::vector<pid> pids;
  for (std::uint32_t n : {30U, 50U, 40U}) {
    pid p = rt.spawn(hoarder);
    for (std::uint32_t i = 0; i < n; ++i) {
      box->ctx().send(p, junk);
    }
    pids.push_back(p);
  }
  long_mailboxes_result seen;
  EXPECT_TRUE(eventually([&] {
    seen = long_mailboxes(rt, 20, 2);
    return seen.over_threshold == 3 && seen.longest.size() == 2 && seen.longest[1].length == 40;
  }));
  ASSERT_EQ(seen.longest.size(), 2U);
  EXPECT_EQ(seen.longest[0].process, pids[1]);
  EXPECT_EQ(seen.longest[0].length, 50U);
  EXPECT_EQ(seen.longest[1].process, pids[2]);
  EXPECT_FALSE(seen.longest[0].registered_name.has_value());
}

// The observer's thread walks the table while processes are born, fill up and die.
TEST_F(Stats, WalkingTheTableWhileProcessesExitIsSafe) {
  std::atomic<bool> churning{true};
  std::atomic<std::size_t> walks{0};
  std::thread walker([&] {
    while (churning.load()) {
      for (const auto& m : long_mailboxes(rt, 2, 1000).longest) {
        EXPECT_GE(m.length, 2U);
        EXPECT_EQ(m.process.node, 0U);
      }
      (void)read_stats(rt);
      walks.fetch_add(1);
    }
  });
  for (int round = 0; round < 20; ++round) {
    std::vector<pid> batch;
    for (int i = 0; i < 50; ++i) {
      pid p = rt.spawn(hoarder);
      for (int k = 0; k < 5; ++k) {
        box->ctx().send(p, junk);
      }
      batch.push_back(p);
    }
    for (pid p : batch) {
      rt.exit(p, atoms::kill);
    }
    for (pid p : batch) {
      await_death(p);
    }
  }
  EXPECT_TRUE(eventually([&] { return walks.load() > 0; }));
  churning.store(false);
  walker.join();
  EXPECT_TRUE(long_mailboxes(rt, 1, 1000).longest.empty()) << "dead processes still listed";
}

} // namespace
} // namespace vigil::test
