// SPDX-License-Identifier: Apache-2.0
// Semantics 1-4: spawn, pids, atomic spawn_link/spawn_monitor, exit reasons.
#include "runtime_fixture.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace vigil::test {
namespace {

task<> report_and_exit(context& self, pid to) {
  self.send(to, make_tuple(atom("started"), self.self()));
  co_return;
}

task<> wait_forever(context& self) {
  const auto never = pattern::tuple({atom("never")});
  co_await self.receive(never);
}

using Spawn = runtime_test;

// semantics 1
TEST_F(Spawn, ReturnsAPidAtOnceAndTheChildRunsConcurrently) {
  pid child = rt.spawn(report_and_exit, me());
  EXPECT_NE(child, pid{});
  auto r = next("{:started, p}");
  EXPECT_EQ(r[0].as_pid(), child);
}

// semantics 1: the only failure is system_limit
TEST(SpawnLimit, FailsWithSystemLimitBeyondMaxProcesses) {
  runtime rt({.schedulers = 1, .max_processes = 8});
  std::vector<pid> alive;
  result<pid> last = pid{};
  for (int i = 0; i < 10 && last.has_value(); ++i) {
    last = rt.spawn_opt({}, wait_forever);
  }
  ASSERT_FALSE(last.has_value());
  EXPECT_NE(last.error().context.find("system_limit"), std::string::npos);
}

// semantics 1: spawn fails (system_limit) only when max_processes are alive. Two threads that
// spawn at once into a fresh table: the one that grows it (with prefault, by a batch of free
// slots up to the limit) must not leave the other, which found the free list empty just
// before, to fail although most of the table is free. Twenty rounds, as it is a race.
TEST(SpawnLimit, TwoThreadsSpawningAtOnceBelowTheLimitNeverFail) {
  for (int round = 0; round < 20; ++round) {
    runtime rt({.schedulers = 1, .max_processes = 65, .prefault = true}); // slots 1-64
    std::atomic<int> ready{0};
    std::atomic<int> failed{0};
    auto spawner = [&] {
      ready.fetch_add(1);
      while (ready.load() < 2) {
      }
      for (int i = 0; i < 20; ++i) { // 40 processes in all, of the 64 allowed
        if (!rt.spawn_opt({}, wait_forever).has_value()) {
          failed.fetch_add(1);
        }
      }
    };
    std::thread a(spawner);
    std::thread b(spawner);
    a.join();
    b.join();
    ASSERT_EQ(failed.load(), 0) << "spawns failed with at most 40 of 64 processes alive (round "
                                << round << ")";
  }
}

// semantics 2
TEST_F(Spawn, AStalePidNeverReachesTheProcessThatReusesItsSlot) {
  pid first = rt.spawn(report_and_exit, me());
  next("{:started, _}");
  await_death(first);
  // Spawn until the slot of `first` is reused. The others stay alive until then: a slot is
  // freed just after its DOWN, so killing each at once could bury `first`'s slot under
  // theirs in the free list.
  pid reused{};
  std::vector<pid> others;
  for (int i = 0; i < 100000 && reused.index != first.index; ++i) {
    reused = rt.spawn(wait_forever);
    if (reused.index != first.index) {
      others.push_back(reused);
    }
  }
  for (pid p : others) {
    rt.exit(p, atoms::kill);
  }
  ASSERT_EQ(reused.index, first.index) << "slot was not reused";
  EXPECT_NE(reused.serial, first.serial);
  EXPECT_FALSE(rt.alive(first));
  EXPECT_TRUE(rt.alive(reused));
  rt.send(first, atom("for_the_dead"));
  auto info = rt.info(reused);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->message_queue_len, 0U) << "a stale pid reached the new process";
}

// semantics 2: a pid is alive only while its process runs. A free slot already carries the
// serial of the process it will hold next, and with prefault a grow builds slots ahead of
// use; a pid forged for either names no process yet.
TEST_F(Spawn, APidForgedForAProcessNotYetSpawnedIsNotAlive) {
  pid first = rt.spawn(report_and_exit, me());
  next("{:started, _}");
  await_death(first);
  EXPECT_FALSE(rt.alive(pid{0, first.index, first.serial + 1})) << "the slot's next process";
  pid running = rt.spawn(wait_forever);
  EXPECT_TRUE(rt.alive(running));
  for (std::uint32_t i = 1; i <= 8; ++i) { // slots built ahead hold serial 1
    pid ahead{0, running.index + i, 1};
    if (ahead != running && ahead != first) {
      EXPECT_FALSE(rt.alive(ahead)) << "slot " << ahead.index;
    }
  }
  rt.exit(running, atoms::kill);
}

task<> die_at_once(context& self) {
  co_await self.exit(atom("boom"));
  ADD_FAILURE() << "code after exit ran";
}

task<> spawn_link_child_that_dies(context& self, pid report) {
  self.trap_exit(true);
  pid child = self.spawn_link(die_at_once);
  const auto exit_clause =
      pattern::tuple({atoms::exit, pattern::literal(child), pattern::bind("reason")});
  auto r = co_await self.receive(exit_clause, 5s);
  self.send(report, r ? r[0] : term(atoms::timeout));
}

// semantics 3: no window where the child dies unobserved
TEST_F(Spawn, SpawnLinkSeesAChildThatDiesImmediately) {
  rt.spawn(spawn_link_child_that_dies, me());
  EXPECT_EQ(next(), term(atom("boom")));
}

task<> spawn_monitor_child_that_dies(context& self, pid report) {
  auto [child, ref] = self.spawn_monitor(die_at_once);
  const auto down = pattern::tuple({atoms::down, pattern::literal(ref), atoms::process,
                                    pattern::literal(child), pattern::bind("reason")});
  auto r = co_await self.receive(down, 5s);
  self.send(report, r ? r[0] : term(atoms::timeout));
}

// semantics 3
TEST_F(Spawn, SpawnMonitorSeesAChildThatDiesImmediately) {
  rt.spawn(spawn_monitor_child_that_dies, me());
  EXPECT_EQ(next(), term(atom("boom")));
}

task<> throws(context& /*self*/) {
  throw std::runtime_error("broken invariant");
  co_return;
}

task<> returns(context& /*self*/) {
  co_return;
}

// semantics 4
TEST_F(Spawn, EveryTerminationHasAReason) {
  auto reason_of = [&](auto body) {
    auto [child, ref] = box->ctx().spawn_monitor(body);
    auto r = box->receive(pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(),
                                          pattern::bind("reason")}),
                          guard);
    return r ? r[0] : term();
  };
  EXPECT_EQ(reason_of(returns), term(atoms::normal));
  EXPECT_EQ(reason_of(die_at_once), term(atom("boom")));
  EXPECT_EQ(reason_of(throws), make_tuple(atom("exception"), "broken invariant"))
      << "a throwing body exits with a reason naming the exception";
  pid victim = rt.spawn(wait_forever);
  reference ref = box->ctx().monitor(victim);
  rt.exit(victim, atoms::kill);
  auto r = box->receive(pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(),
                                        pattern::bind("reason")}),
                        guard);
  ASSERT_TRUE(r);
  EXPECT_EQ(r[0], term(atoms::killed));
}

task<> captured_state(context& self, pid to) {
  self.send(to, atom("plain"));
  co_return;
}

TEST_F(Spawn, LambdasKeepTheirCapturesAliveForTheProcessLifetime) {
  std::string greeting = "hello from a capture that outlives the spawn call";
  pid to = me();
  rt.spawn([greeting, to](context& self) -> task<> {
    co_await self.yield();
    self.send(to, term(greeting));
  });
  EXPECT_EQ(next().as_string(), "hello from a capture that outlives the spawn call");
  rt.spawn(captured_state, to);
  EXPECT_EQ(next(), term(atom("plain")));
}

TEST(RuntimeShutdown, KillsEveryProcessAndFreesItsMemory) {
  std::atomic<int> constructed{0};
  std::atomic<int> destroyed{0};

  struct guard_object {
    std::atomic<int>* counter;

    explicit guard_object(std::atomic<int>* c) : counter(c) {}

    guard_object(const guard_object&) = delete;
    guard_object& operator=(const guard_object&) = delete;
    guard_object(guard_object&&) = delete;
    guard_object& operator=(guard_object&&) = delete;

    ~guard_object() { counter->fetch_add(1); }
  };

  {
    runtime rt({.schedulers = 2});
    auto box = rt.make_mailbox();
    pid to = box->self();
    for (int i = 0; i < 100; ++i) {
      rt.spawn([&constructed, &destroyed, to](context& self) -> task<> {
        constructed.fetch_add(1);
        guard_object g{&destroyed};
        self.send(to, atoms::ok);
        co_await self.receive();
      });
    }
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(box->receive(std::chrono::seconds(10)));
    }
    box.reset();
  }
  EXPECT_EQ(constructed.load(), 100);
  EXPECT_EQ(destroyed.load(), constructed.load())
      << "every frame that started was destroyed at shutdown";
}

// vigild's runtime maps the process table unpopulated and builds a control block when its
// slot is first used: processes past the first chunk (1 MiB: 4,519 slots) run and hear from their
// spawner, and shutdown destroys every one of them, no more and no fewer.
TEST(RuntimeWithoutPrefault, ProcessesPastTheFirstChunkRunAndAreAllDestroyedAtShutdown) {
  constexpr int n = 6000;
  std::atomic<int> destroyed{0};

  struct count_on_destroy {
    std::atomic<int>* counter;

    explicit count_on_destroy(std::atomic<int>* c) : counter(c) {}

    count_on_destroy(const count_on_destroy&) = delete;
    count_on_destroy& operator=(const count_on_destroy&) = delete;
    count_on_destroy(count_on_destroy&&) = delete;
    count_on_destroy& operator=(count_on_destroy&&) = delete;

    ~count_on_destroy() { counter->fetch_add(1); }
  };

  {
    runtime rt({.schedulers = 2, .prefault = false});
    auto box = rt.make_mailbox();
    pid to = box->self();
    std::uint32_t highest = 0;
    for (int i = 0; i < n; ++i) {
      pid p = rt.spawn([&destroyed, to](context& self) -> task<> {
        count_on_destroy guard{&destroyed};
        self.send(to, make_tuple(atom("up"), self.self()));
        auto go = co_await self.receive();
        self.send(to, make_tuple(atom("heard"), go.message));
      });
      highest = std::max(highest, p.index);
    }
    EXPECT_GT(highest, 4519U) << "the processes did not reach a second chunk";
    std::vector<pid> up;
    for (int i = 0; i < n; ++i) {
      auto m = box->receive(std::chrono::seconds(30));
      ASSERT_TRUE(m);
      up.push_back(m.message[1].as_pid());
    }
    // The last one, in the second chunk, still takes messages.
    auto last =
        *std::max_element(up.begin(), up.end(), [](pid a, pid b) { return a.index < b.index; });
    rt.send(last, atom("go"));
    auto heard = box->receive(std::chrono::seconds(30));
    ASSERT_TRUE(heard);
    EXPECT_EQ(heard.message[1], term(atom("go")));
    box.reset();
  }
  EXPECT_EQ(destroyed.load(), n);
}

} // namespace
} // namespace vigil::test

namespace vigil::test {
namespace {

// semantics 3: spawn_opt with link is spawn_link, with a name registered atomically too
TEST_F(Spawn, SpawnOptCanLinkAndRegisterAtOnce) {
  box->ctx().trap_exit(true);
  auto child = box->ctx().spawn_opt({.name = atom("linked_and_named"), .link = true}, die_at_once);
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(next(), make_tuple(atoms::exit, *child, atom("boom")));
}

TEST_F(Spawn, AMailboxCanWaitForAnyOfSeveralPatterns) {
  const std::vector<pattern> clauses = {pattern::tuple({atom("reply"), pattern::bind("v")}),
                                        pattern::tuple({atoms::down, pattern::any()})};
  box->ctx().send(me(), make_tuple(atom("noise"), 1));
  box->ctx().send(me(), make_tuple(atoms::down, 2));
  auto r = box->receive(clauses, guard);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.clause, 1);
  EXPECT_EQ(r.message, make_tuple(atoms::down, 2));
}

// With prefault on (the default), chunks and slabs come populated from a reserve that a
// background thread refills while some runtime wants it. Runtimes one after another each
// spawn a burst across several chunks: every process runs and hears its spawner, whether its
// memory was prepared ahead, taken when the previous runtime left it, or mapped on the spot.
TEST(RuntimeWithPrefault, BurstsInRuntimesOneAfterAnotherAllRun) {
  constexpr int n = 20000;
  for (int round = 0; round < 3; ++round) {
    runtime rt({.schedulers = 2});
    auto box = rt.make_mailbox();
    pid to = box->self();
    std::vector<pid> kids;
    kids.reserve(n);
    for (int i = 0; i < n; ++i) {
      kids.push_back(rt.spawn([to](context& self) -> task<> {
        self.send(to, atom("up"));
        auto go = co_await self.receive();
        self.send(to, go.message);
      }));
    }
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(box->receive(std::chrono::seconds(30))) << "round " << round << ", " << i;
    }
    for (pid kid : kids) {
      rt.send(kid, atom("go"));
    }
    for (int i = 0; i < n; ++i) {
      auto m = box->receive(std::chrono::seconds(30));
      ASSERT_TRUE(m) << "round " << round << ", " << i;
      EXPECT_EQ(m.message, term(atom("go")));
    }
    box.reset();
  }
}

} // namespace
} // namespace vigil::test
