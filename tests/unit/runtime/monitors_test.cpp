// SPDX-License-Identifier: Apache-2.0
// Semantics 17-20: monitors, names, flags and info.
#include "runtime_fixture.hpp"

#include <atomic>
#include <mutex>
#include <string>

namespace vigil::test {
namespace {

using Monitors = runtime_test;
using Names = runtime_test;
using Info = runtime_test;

task<> wait_forever(context& self) {
  const auto never = pattern::tuple({atom("never")});
  co_await self.receive(never);
}

task<> stop_on_request(context& self) {
  const auto stop = pattern::tuple({atom("stop")});
  co_await self.receive(stop);
}

// semantics 17: DOWN carries ref, :process, pid and reason
TEST_F(Monitors, DeliverDownWithTheReason) {
  pid p = rt.spawn(wait_forever);
  reference ref = box->ctx().monitor(p);
  rt.exit(p, atom("crash"));
  EXPECT_EQ(next(), term::tuple({atoms::down, ref, atoms::process, p, atom("crash")}));
}

// semantics 17: every monitor call makes an independent monitor
TEST_F(Monitors, EachMonitorCallGetsItsOwnDown) {
  pid p = rt.spawn(wait_forever);
  reference a = box->ctx().monitor(p);
  reference b = box->ctx().monitor(p);
  EXPECT_NE(a, b);
  rt.exit(p, atom("crash"));
  auto first = next();
  auto second = next();
  EXPECT_EQ(first[1], term(a));
  EXPECT_EQ(second[1], term(b));
}

// semantics 17: a dead target yields an immediate DOWN :noproc
TEST_F(Monitors, MonitoringADeadPidGivesNoproc) {
  pid p = rt.spawn(wait_forever);
  rt.exit(p, atoms::kill);
  await_death(p);
  reference ref = box->ctx().monitor(p);
  EXPECT_EQ(next(), term::tuple({atoms::down, ref, atoms::process, p, atoms::noproc}));
}

// semantics 17: monitor by name resolves once; an unknown name yields DOWN :noproc
TEST_F(Monitors, MonitorByUnknownNameGivesNoproc) {
  reference ref = box->ctx().monitor(atom("nobody"));
  auto down = next();
  ASSERT_TRUE(down.is_tuple());
  EXPECT_EQ(down[1], term(ref));
  EXPECT_EQ(down[3], make_tuple(atom("nobody"), atom("nonode@nohost")));
  EXPECT_EQ(down[4], term(atoms::noproc));
}

// semantics 17: demonitor with flush removes a DOWN already queued
TEST_F(Monitors, DemonitorWithFlushRemovesAQueuedDown) {
  pid p = rt.spawn(wait_forever);
  reference ref = box->ctx().monitor(p);
  box->ctx().exit(p, atoms::kill);
  // The probe's DOWN comes after the first one (6): once it is here, the first is queued.
  reference probe = box->ctx().monitor(p);
  auto probe_down = box->receive(pattern::tuple({atoms::down, pattern::literal(probe),
                                                 pattern::any(), pattern::any(), pattern::any()}),
                                 guard);
  ASSERT_TRUE(probe_down);
  box->ctx().demonitor(ref, true);
  EXPECT_TRUE(box->flush().empty());
}

// semantics 17: a DOWN for a monitor dropped before it arrived is discarded
TEST_F(Monitors, DemonitoredProcessSendsNoDown) {
  pid p = rt.spawn(stop_on_request);
  reference ref = box->ctx().monitor(p);
  box->ctx().demonitor(ref);
  rt.send(p, make_tuple(atom("stop")));
  await_death(p);
  EXPECT_TRUE(box->flush().empty());
}

// semantics 8: monitor then send to a dead server gets DOWN, not silence
TEST_F(Monitors, MonitorThenSendToADeadServerGetsDown) {
  pid server = rt.spawn(wait_forever);
  rt.exit(server, atoms::kill);
  reference ref = box->ctx().monitor(server);
  box->ctx().send(server, make_tuple(me(), atom("request")));
  auto down = next();
  EXPECT_EQ(down[1], term(ref));
}

// semantics 18: one name per process, one process per name; whereis; registered
TEST_F(Names, RegisterWhereisAndUniqueness) {
  pid a = rt.spawn(wait_forever);
  pid b = rt.spawn(wait_forever);
  ASSERT_TRUE(rt.register_name(atom("alpha"), a));
  EXPECT_FALSE(rt.register_name(atom("alpha"), b)) << "one process per name";
  EXPECT_FALSE(rt.register_name(atom("beta"), a)) << "one name per process";
  EXPECT_EQ(rt.whereis(atom("alpha")), a);
  EXPECT_FALSE(rt.whereis(atom("beta")).has_value());
  auto names = rt.registered();
  EXPECT_NE(std::find(names.begin(), names.end(), atom("alpha")), names.end());
  ASSERT_TRUE(box->ctx().send(atom("alpha"), atoms::ok));
  auto info = rt.info(a);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->registered_name, atom("alpha"));
  ASSERT_TRUE(rt.unregister_name(atom("alpha")));
  EXPECT_FALSE(rt.whereis(atom("alpha")).has_value());
  rt.exit(a, atoms::kill);
  rt.exit(b, atoms::kill);
}

// semantics 18: a dead pid cannot be registered; names are released at death
TEST_F(Names, DeadProcessesLoseTheirNames) {
  pid a = rt.spawn(wait_forever);
  ASSERT_TRUE(rt.register_name(atom("gamma"), a));
  rt.exit(a, atoms::kill);
  await_death(a);
  EXPECT_FALSE(rt.whereis(atom("gamma")).has_value());
  EXPECT_FALSE(rt.register_name(atom("delta"), a));
}

TEST_F(Names, SpawnOptRegistersAtomically) {
  auto p = rt.spawn_opt({.name = atom("born_named")}, wait_forever);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(rt.whereis(atom("born_named")), *p);
  auto dup = rt.spawn_opt({.name = atom("born_named")}, wait_forever);
  EXPECT_FALSE(dup.has_value());
  rt.exit(*p, atoms::kill);
}

task<> slow_echo(context& self) {
  const auto go = pattern::tuple({atom("go")});
  for (;;) {
    auto m = co_await self.receive();
    co_await self.receive(go); // "busy" until told
    self.send(m.message[0].as_pid(), make_tuple(atoms::ok, atoms::pong));
  }
}

// semantics 20: info shows the queue, status, links and where the process waits
TEST_F(Info, ShowsQueuedMessagesOfABusyWorker) {
  auto p = rt.spawn_opt({.initial_call = "slow_echo/1"}, slow_echo);
  ASSERT_TRUE(p.has_value());
  for (int i = 0; i < 5; ++i) {
    rt.send(*p, make_tuple(me(), atoms::ping));
  }
  // The worker takes one and waits for :go; the other four stay queued.
  std::optional<process_info> info;
  for (int i = 0; i < 1000; ++i) {
    info = rt.info(*p);
    if (info && info->message_queue_len == 4 && info->status == process_status::waiting) {
      break;
    }
  }
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->message_queue_len, 4U);
  EXPECT_EQ(info->messages.size(), 4U);
  EXPECT_EQ(info->messages[0], make_tuple(me(), atoms::ping));
  EXPECT_EQ(info->status, process_status::waiting);
  EXPECT_EQ(info->initial_call, "slow_echo/1");
  // The pending receive's place, relative to the source tree (not the build directory).
  EXPECT_TRUE(info->current_function.starts_with("tests/unit/runtime/monitors_test.cpp:"))
      << info->current_function;
  EXPECT_GT(info->memory, 0U);
  EXPECT_LE(info->memory, 4096U);
  rt.exit(*p, atoms::kill);
}

// semantics 20: a dead pid gives an empty result
TEST_F(Info, DeadPidGivesNothing) {
  pid p = rt.spawn(wait_forever);
  rt.exit(p, atoms::kill);
  await_death(p);
  EXPECT_FALSE(rt.info(p).has_value());
}

TEST_F(Info, ConvertsToAKeywordList) {
  pid p = rt.spawn(wait_forever);
  auto info = rt.info(p);
  ASSERT_TRUE(info.has_value());
  term t = info->to_term();
  ASSERT_TRUE(t.is_list());
  EXPECT_EQ(t[0][0], term(atom("current_function")));
  rt.exit(p, atoms::kill);
}

task<> bounded_receiver(context& self) {
  const auto never = pattern::tuple({atom("never")});
  co_await self.receive(never);
}

TEST_F(Info, BoundedMailboxDropsTheNewestAndCounts) {
  auto p = rt.spawn_opt({.max_mailbox = 3}, bounded_receiver);
  ASSERT_TRUE(p.has_value());
  for (int i = 0; i < 10; ++i) {
    rt.send(*p, i);
  }
  auto info = rt.info(*p);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->message_queue_len, 3U);
  EXPECT_EQ(info->dropped, 7U);
  EXPECT_EQ(info->messages[0], term(0));
  rt.exit(*p, atoms::kill);
}

TEST_F(Info, BoundedMailboxCanExitTheReceiver) {
  auto p = rt.spawn_opt({.max_mailbox = 2, .on_overflow = overflow_policy::exit}, bounded_receiver);
  ASSERT_TRUE(p.has_value());
  reference ref = box->ctx().monitor(*p);
  for (int i = 0; i < 10; ++i) {
    rt.send(*p, i);
  }
  EXPECT_EQ(next(), term::tuple({atoms::down, ref, atoms::process, *p, atom("mailbox_overflow")}));
}

TEST_F(Info, BlockingWorkRunsOffTheSchedulerAndResumes) {
  pid to = me();
  rt.spawn([to](context& self) -> task<> {
    int v = co_await self.blocking([] { return 41 + 1; });
    self.send(to, v);
  });
  EXPECT_EQ(next(), term(42));
}

} // namespace
} // namespace vigil::test

namespace vigil::test {
namespace {

TEST(Watchdog, ReportsAProcessThatHoldsItsThreadAndFlagsItInInfo) {
  std::atomic<bool> reported{false};
  std::string line;
  std::mutex line_mutex;
  runtime rt({.schedulers = 2,
              .long_run_warning = std::chrono::milliseconds(20),
              .on_warning = [&](const std::string& text) {
                std::lock_guard lock(line_mutex);
                line = text;
                reported.store(true);
              }});
  auto box = rt.make_mailbox();
  pid to = box->self();
  auto hog = rt.spawn_opt({.initial_call = "hog/0"}, [&reported, to](context& self) -> task<> {
    // Hold the thread until the watchdog has spoken (bounded by the guard below).
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!reported.load() && std::chrono::steady_clock::now() < give_up) {
    }
    self.send(to, atoms::ok);
    co_await self.receive();
  });
  ASSERT_TRUE(hog.has_value());
  ASSERT_TRUE(box->receive(std::chrono::seconds(15)));
  EXPECT_TRUE(reported.load());
  {
    std::lock_guard lock(line_mutex);
    EXPECT_NE(line.find("hog/0"), std::string::npos) << line;
  }
  auto info = rt.info(*hog);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->long_running);
  box.reset();
}

} // namespace
} // namespace vigil::test
