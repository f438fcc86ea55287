// SPDX-License-Identifier: Apache-2.0
// Semantics 5-11: send, ordering, selective receive, after.
#include "runtime_fixture.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vigil::test {
namespace {

using Messaging = runtime_test;

task<> echo(context& self) {
  for (;;) {
    auto m = co_await self.receive();
    if (m.message.is_tuple() && m.message.size() == 2 && m.message[0].is_pid()) {
      self.send(m.message[0].as_pid(), make_tuple(atoms::ok, atoms::pong));
    }
  }
}

// semantics 5: a send to a dead pid is a silent no-op
TEST_F(Messaging, SendToADeadPidDoesNothing) {
  pid worker = rt.spawn(echo);
  rt.exit(worker, atoms::kill);
  await_death(worker);
  EXPECT_FALSE(rt.alive(worker));
  box->ctx().send(worker, make_tuple(me(), atoms::ok));
  EXPECT_TRUE(box->flush().empty());
  EXPECT_TRUE(quiet());
}

// semantics 5: a send to an unregistered name is an error the caller sees
TEST_F(Messaging, SendToAnUnregisteredNameFails) {
  auto r = box->ctx().send(atom("nobody_here"), atoms::ok);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().context.find("badarg"), std::string::npos);
}

// semantics 5
TEST_F(Messaging, SendToSelfThenFlushReturnsTheMessage) {
  box->ctx().send(me(), "hello");
  auto all = box->flush();
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].as_string(), "hello");
  EXPECT_TRUE(box->flush().empty());
}

task<> sequence_sender(context& self, pid to, int from, int count) {
  for (int i = 0; i < count; ++i) {
    self.send(to, make_tuple(from, i));
    if (i % 100 == 0) {
      co_await self.yield();
    }
  }
}

// semantics 6: the only ordering guarantee is per sender/receiver pair
TEST_F(Messaging, MessagesFromOneSenderArriveInSendOrder) {
  constexpr int senders = 4;
  constexpr int count = 2000;
  for (int s = 0; s < senders; ++s) {
    rt.spawn(sequence_sender, me(), s, count);
  }
  std::vector<int> expected(senders, 0);
  for (int i = 0; i < senders * count; ++i) {
    term m = next();
    auto s = static_cast<std::size_t>(m[0].as_integer());
    EXPECT_EQ(m[1].as_integer(), expected[s]) << "sender " << s << " out of order";
    expected[s] = static_cast<int>(m[1].as_integer()) + 1;
  }
}

task<> selective(context& self, pid report) {
  // semantics 9: take the oldest message matching; others stay in order
  const auto b_clause = pattern::tuple({atom("b"), pattern::bind("x")});
  auto second = co_await self.receive(b_clause);
  self.send(report, second[0]);
  for (int i = 0; i < 3; ++i) {
    auto m = co_await self.receive();
    self.send(report, m.message);
  }
}

// semantics 9
TEST_F(Messaging, SelectiveReceiveLeavesUnmatchedMessagesInOrder) {
  pid p = rt.spawn(selective, me());
  rt.send(p, make_tuple(atom("a"), 1));
  rt.send(p, make_tuple(atom("a"), 2));
  rt.send(p, make_tuple(atom("b"), 3));
  rt.send(p, make_tuple(atom("a"), 4));
  EXPECT_EQ(next(), term(3));
  EXPECT_EQ(next(), make_tuple(atom("a"), 1));
  EXPECT_EQ(next(), make_tuple(atom("a"), 2));
  EXPECT_EQ(next(), make_tuple(atom("a"), 4));
}

task<> clauses_in_order(context& self, pid report) {
  static const std::vector<pattern> clauses = {
      pattern::tuple({atom("high"), pattern::bind("x")}),
      pattern::tuple({pattern::any(), pattern::bind("x")}),
  };
  // The oldest message is tried against every clause before the next message is looked at.
  auto r = co_await self.receive(clauses);
  self.send(report, make_tuple(r.clause, r[0]));
}

// semantics 9: clauses are tried top to bottom for each message, oldest message first
TEST_F(Messaging, OldestMessageWinsOverALaterClauseMatch) {
  pid p = rt.spawn(clauses_in_order, me());
  rt.send(p, make_tuple(atom("low"), 1));
  rt.send(p, make_tuple(atom("high"), 2));
  EXPECT_EQ(next(), make_tuple(1, 1));
}

task<> take_tagged_then_rest(context& self, pid report) {
  static const pattern tagged = pattern::tuple({atom("b"), pattern::bind("x")});
  self.send(report, atom("waiting"));
  auto first = co_await self.receive(tagged);
  std::vector<term> rest;
  for (int i = 0; i < 3; ++i) {
    rest.push_back((co_await self.receive()).message);
  }
  self.send(report, make_tuple(first[0], term::list(rest)));
}

// semantics 6 and 9: a waiting receive takes its match as it arrives (straight from the
// inbox, without the mailbox) and leaves the messages behind it queued in order
TEST_F(Messaging, AMatchTakenOnArrivalLeavesTheMessagesBehindItInOrder) {
  pid p = rt.spawn(take_tagged_then_rest, me());
  EXPECT_EQ(next(), term(atom("waiting")));
  rt.send(p, make_tuple(atom("b"), 1));
  rt.send(p, make_tuple(atom("a"), 2));
  rt.send(p, make_tuple(atom("b"), 3));
  rt.send(p, make_tuple(atom("a"), 4));
  EXPECT_EQ(next(), make_tuple(1, term::list({make_tuple(atom("a"), 2), make_tuple(atom("b"), 3),
                                              make_tuple(atom("a"), 4)})));
}

// A receive kept in a variable and awaited again waits for, and takes, the next message.
TEST_F(Messaging, AReceiveAwaitedAgainTakesTheNextMessage) {
  pid p = rt.spawn(
      [](context& self, pid report) -> task<> {
        auto next_message = self.receive();
        auto first = co_await next_message;
        auto second = co_await next_message;
        self.send(report, make_tuple(first.message, second.message));
      },
      me());
  rt.send(p, 1);
  rt.send(p, 2);
  EXPECT_EQ(next(), make_tuple(1, 2));
}

task<> poll_then_report(context& self, pid report) {
  auto r = co_await self.receive(timeout::zero());
  self.send(report, r ? r.message : term(atoms::timeout));
}

// semantics 10: after 0 polls
TEST_F(Messaging, AfterZeroPollsAnEmptyMailbox) {
  rt.spawn(poll_then_report, me());
  EXPECT_EQ(next(), term(atoms::timeout));
}

task<> receive_with_timeout(context& self, pid report) {
  const auto never = pattern::tuple({atom("never")});
  auto r = co_await self.receive(never, 30ms);
  self.send(report, r ? term(atoms::ok) : term(atoms::timeout));
  auto late = co_await self.receive();
  self.send(report, late.message);
}

// semantics 10: a receive with `after` times out, leaving unmatched messages queued
TEST_F(Messaging, AfterTimesOutAndKeepsUnmatchedMessages) {
  pid p = rt.spawn(receive_with_timeout, me());
  rt.send(p, atom("unmatched"));
  EXPECT_EQ(next(), term(atoms::timeout));
  EXPECT_EQ(next(), term(atom("unmatched")));
}

/// Sleeps once `go` has come, then reports the oldest message left in its mailbox. Messages
/// from one sender arrive in order, so whatever the test sent before `go` is queued when the
/// sleep begins: the sleep is the behaviour under test, not a wait for the message.
task<> sleeper(context& self, pid report) {
  const auto go = pattern::tuple({atom("go")});
  (void)co_await self.receive(go);
  co_await self.sleep(20ms);
  auto queued = co_await self.receive(timeout::zero());
  self.send(report, queued ? queued.message : term(atoms::nil));
}

// semantics 10: a receive with only `after` is a sleep that consumes nothing
TEST_F(Messaging, SleepConsumesNothing) {
  pid p = rt.spawn(sleeper, me());
  rt.send(p, atom("kept"));
  rt.send(p, make_tuple(atom("go")));
  EXPECT_EQ(next(), term(atom("kept")));
}

task<> tagged_reply(context& self, pid report, int junk) {
  for (int i = 0; i < junk; ++i) {
    self.send(self.self(), make_tuple(atom("junk"), i));
  }
  reference tag = self.make_ref();
  self.send(self.self(), make_tuple(tag, atoms::ok));
  const auto reply = pattern::tuple({pattern::literal(tag), pattern::bind("v")});
  auto r = co_await self.receive(reply);
  self.send(report, make_tuple(r[0], static_cast<std::int64_t>(self.info().message_queue_len)));
}

// semantics 11: a match behind a backlog still finds the right message; the backlog stays
TEST_F(Messaging, SelectiveReceiveFindsATaggedReplyBehindABacklog) {
  rt.spawn(tagged_reply, me(), 1000);
  EXPECT_EQ(next(), make_tuple(atoms::ok, 1000));
}

// Reports :busy, then runs one turn until `go` is set, so that everything sent meanwhile
// waits in its inbox and is taken as one batch by the receives that follow.
task<> busy_then_receive(context& self, pid report, std::atomic<bool>* go, bool selective) {
  self.trap_exit(true);
  self.send(report, atom("busy"));
  while (!go->load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  std::vector<term> got;
  if (selective) {
    static const pattern tagged = pattern::tuple({atom("b"), pattern::bind("x")});
    got.push_back((co_await self.receive(tagged))[0]);
    got.push_back((co_await self.receive(tagged))[0]);
  }
  while (got.size() < 5) {
    got.push_back((co_await self.receive()).message);
  }
  self.send(report, term::list(got));
}

// semantics 6 and 15: messages and an exit signal that arrive while the receiver is busy
// are taken together, and handled in arrival order: the trapped exit becomes a message in
// its place among the others
TEST_F(Messaging, MessagesAndAnExitQueuedDuringATurnAreReceivedInArrivalOrder) {
  std::atomic<bool> go{false};
  pid p = rt.spawn(busy_then_receive, me(), &go, false);
  EXPECT_EQ(next(), term(atom("busy")));
  rt.send(p, 1);
  rt.send(p, 2);
  rt.exit(p, atom("why"));
  rt.send(p, 3);
  rt.send(p, 4);
  go.store(true, std::memory_order_release);
  EXPECT_EQ(next(), term::list({1, 2, make_tuple(atoms::exit, pid{}, atom("why")), 3, 4}));
}

// semantics 6 and 9: a selective receive over messages that arrived together takes its
// matches oldest first and leaves the others in order
TEST_F(Messaging, ASelectiveReceiveOverMessagesQueuedDuringATurnLeavesTheRestInOrder) {
  std::atomic<bool> go{false};
  pid p = rt.spawn(busy_then_receive, me(), &go, true);
  EXPECT_EQ(next(), term(atom("busy")));
  for (int i = 1; i <= 5; ++i) {
    rt.send(p, make_tuple(atom(i % 2 == 1 ? "b" : "a"), i));
  }
  go.store(true, std::memory_order_release);
  EXPECT_EQ(next(), term::list({1, 3, make_tuple(atom("a"), 2), make_tuple(atom("a"), 4),
                                make_tuple(atom("b"), 5)}));
}

// semantics 4: a receive_if predicate that throws ends the receiving process with a reason
// naming the exception, as any throw from its body does; the runtime goes on
TEST_F(Messaging, AReceivePredicateThatThrowsEndsOnlyItsProcess) {
  auto [child, ref] = box->ctx().spawn_monitor([](context& self) -> task<> {
    self.send(self.self(), 1); // in the inbox when the receive starts
    co_await self.receive_if(
        [](const term&) -> bool { throw std::runtime_error("bad predicate"); });
  });
  auto r = box->receive(pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(),
                                        pattern::bind("reason")}),
                        guard);
  ASSERT_TRUE(r);
  EXPECT_EQ(r[0], make_tuple(atom("exception"), "bad predicate"));
}

// semantics 4: the same when the predicate throws on a message that arrives while its
// process waits, so that the scheduler thread, not the body, runs the predicate
TEST_F(Messaging, AReceivePredicateThatThrowsOnALaterMessageEndsOnlyItsProcess) {
  auto [child, ref] = box->ctx().spawn_monitor([](context& self) -> task<> {
    co_await self.receive_if(
        [](const term&) -> bool { throw std::runtime_error("bad predicate"); });
  });
  rt.send(child, 1);
  auto r = box->receive(pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(),
                                        pattern::bind("reason")}),
                        guard);
  ASSERT_TRUE(r);
  EXPECT_EQ(r[0], make_tuple(atom("exception"), "bad predicate"));
}

// semantics 6 and 9: a body that catches its predicate's exception still finds every
// message that arrived with the one the predicate threw on, in order
TEST_F(Messaging, MessagesBesideOneWhosePredicateThrewAreAllStillQueuedInOrder) {
  pid parent = me();
  rt.spawn([parent](context& self) -> task<> {
    for (int i = 1; i <= 3; ++i) {
      self.send(self.self(), i); // one batch in the inbox when the receive starts
    }
    bool threw = false;
    try {
      co_await self.receive_if(
          [](const term&) -> bool { throw std::runtime_error("bad predicate"); });
    } catch (const std::runtime_error&) {
      threw = true;
    }
    std::vector<term> got;
    for (int i = 0; i < 3; ++i) {
      got.push_back((co_await self.receive(0ms)).message);
    }
    self.send(parent, make_tuple(threw, term::list(got)));
  });
  EXPECT_EQ(next(), make_tuple(true, term::list({1, 2, 3})));
}

TEST_F(Messaging, ReductionBudgetLetsOtherProcessesRun) {
  // One process has a huge mailbox; another, spawned later, must still get to run.
  runtime small({.schedulers = 1, .reductions_per_turn = 10});
  auto b = small.make_mailbox();
  pid busy = small.spawn([](context& self) -> task<> {
    for (;;) {
      co_await self.receive();
    }
  });
  for (int i = 0; i < 10000; ++i) {
    small.send(busy, i);
  }
  pid to = b->self();
  small.spawn([to](context& self) -> task<> {
    self.send(to, atoms::ok);
    co_return;
  });
  auto r = b->receive(guard);
  EXPECT_TRUE(r);
  b.reset();
}

task<> bounce(context& self) {
  for (;;) {
    auto r = co_await self.receive();
    if (r.message.is_pid()) {
      self.send(r.message.as_pid(), self.self()); // each wakes the other, forever
    }
  }
}

TEST_F(Messaging, APairThatKeepsWakingEachOtherDoesNotStarveQueuedWork) {
  // Each of the pair is made runnable by the other and runs next on the same thread; a
  // process queued behind them on that thread must still get its turn.
  runtime one({.schedulers = 1});
  auto b = one.make_mailbox();
  pid to = b->self();
  one.spawn([to](context& self) -> task<> {
    pid late = self.spawn([to](context& me) -> task<> {
      me.send(to, atoms::ok);
      co_return;
    });
    (void)late;
    pid x = self.spawn(bounce);
    pid y = self.spawn(bounce);
    self.send(x, y);
    co_return;
  });
  auto r = b->receive(guard);
  EXPECT_TRUE(r);
  b.reset();
}

// Two processes woken by a turn that then holds its thread: one waits in the run-next slot,
// the other in the deque. The other thread, asleep, must be woken to run them; the watchdog
// (long_run_warning) is set far off so that only the scheduler's own wake-up can do it.
// The holder's first sleep only makes it likely that the other thread is asleep by then, so
// that this path is the one taken; it cannot race: a thread still awake takes the two
// processes as well (once the turn has lasted 1 ms), and the test holds either way.
TEST(Scheduling, TwoProcessesWokenBeforeALongTurnRunOnTheSleepingThread) {
  runtime_options o{.schedulers = 2, .long_run_warning = 60s};
  o.on_warning = [](const std::string&) {};
  runtime rt(std::move(o));
  auto box = rt.make_mailbox();
  auto ran = std::make_shared<std::atomic<int>>(0);
  pid me = box->self();
  rt.spawn([ran, me](context& self) -> task<> {
    co_await self.sleep(50ms); // lets the other thread fall asleep
    for (int i = 0; i < 2; ++i) {
      self.spawn([ran](context&) -> task<> {
        ran->fetch_add(1);
        co_return;
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + runtime_test::guard;
    while (ran->load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield(); // holds the thread without suspending
    }
    self.send(me, ran->load() == 2 ? atoms::ok : atom("starved"));
  });
  auto r = box->receive(runtime_test::guard + 5s);
  ASSERT_TRUE(r) << "the holder never answered";
  EXPECT_EQ(r.message, term(atoms::ok)) << "the woken processes waited for the turn to end";
  box.reset();
  rt.shutdown();
}

TEST(Scheduling, WorkWokenBehindATurnThatNeverSuspendsRunsOnTheOtherThread) {
  // A process that holds its thread without suspending until the process it spawned has
  // run. The spawned one waits in the holder's run-next slot; filling an empty slot wakes no
  // thread (only a second process queued behind a turn wakes a deep sleeper), so the
  // watchdog's check (every half bound) must see the held turn and wake it. The holder's sleep
  // first only lets the other thread fall asleep, so that this path is the one taken; the test
  // holds either way.
  runtime_options o{.schedulers = 2, .long_run_warning = 20ms};
  o.on_warning = [](const std::string&) {};
  runtime rt(std::move(o));
  auto box = rt.make_mailbox();
  auto ran = std::make_shared<std::atomic<bool>>(false);
  pid me = box->self();
  rt.spawn([ran, me](context& self) -> task<> {
    co_await self.sleep(50ms);
    self.spawn([ran](context&) -> task<> {
      ran->store(true);
      co_return;
    });
    const auto deadline = std::chrono::steady_clock::now() + runtime_test::guard;
    while (!ran->load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield(); // holds the thread without suspending
    }
    self.send(me, ran->load() ? atoms::ok : atom("starved"));
  });
  auto r = box->receive(runtime_test::guard + 5s);
  ASSERT_TRUE(r) << "the holder never answered";
  EXPECT_EQ(r.message, term(atoms::ok)) << "the spawned process waited for the turn to end";
  box.reset();
  rt.shutdown();
}

/// What a runtime's remote_send hook was given, from whichever thread sent.
struct remote_log {
  std::mutex mutex;
  std::vector<std::pair<pid, term>> sends;

  std::vector<std::pair<pid, term>> taken() {
    std::lock_guard lock(mutex);
    return std::exchange(sends, {});
  }
};

task<> send_to(context& self, pid to, term message, pid done) {
  self.send(to, std::move(message));
  self.send(done, atoms::ok);
  co_return;
}

TEST(RemoteSend, SendsToAnotherNodesPidGoToTheHookFromEveryKindOfSender) {
  auto log = std::make_shared<remote_log>();
  runtime_options o{.schedulers = 2};
  o.remote_send = [log](pid to, term message) {
    std::lock_guard lock(log->mutex);
    log->sends.emplace_back(to, std::move(message));
  };
  runtime rt(std::move(o));
  auto box = rt.make_mailbox();
  const pid remote{3, 7, 1};
  rt.send(remote, atom("from_runtime"));
  box->ctx().send(remote, atom("from_mailbox"));
  rt.spawn(send_to, remote, term(atom("from_process")), box->self());
  ASSERT_TRUE(box->receive(runtime_test::guard));
  auto sends = log->taken();
  ASSERT_EQ(sends.size(), 3U);
  EXPECT_EQ(sends[0], std::make_pair(remote, term(atom("from_runtime"))));
  EXPECT_EQ(sends[1], std::make_pair(remote, term(atom("from_mailbox"))));
  EXPECT_EQ(sends[2], std::make_pair(remote, term(atom("from_process"))));
  box.reset();
  rt.shutdown();
}

TEST(RemoteSend, LocalPidsAndOtherSignalsNeverReachTheHook) {
  auto log = std::make_shared<remote_log>();
  runtime_options o{.schedulers = 1};
  o.remote_send = [log](pid to, term message) {
    std::lock_guard lock(log->mutex);
    log->sends.emplace_back(to, std::move(message));
  };
  runtime rt(std::move(o));
  auto box = rt.make_mailbox();
  pid dead = rt.spawn([](context&) -> task<> { co_return; });
  (void)box->ctx().monitor(dead);
  ASSERT_TRUE(box->receive(runtime_test::guard)) << "no DOWN";
  rt.send(dead, atoms::ok);
  box->ctx().send(box->self(), atoms::ok);
  ASSERT_TRUE(box->receive(runtime_test::guard));
  // An exit signal to another node's pid is not a message: it is dropped, not forwarded.
  rt.exit(pid{3, 7, 1}, atoms::kill);
  EXPECT_TRUE(log->taken().empty());
  box.reset();
  rt.shutdown();
}

TEST(RemoteSend, WithoutAHookASendToAnotherNodeIsDropped) {
  runtime rt(runtime_options{.schedulers = 1});
  auto box = rt.make_mailbox();
  box->ctx().send(pid{3, 7, 1}, atoms::ok);
  EXPECT_FALSE(box->receive(timeout::zero()));
  box.reset();
  rt.shutdown();
}

} // namespace
} // namespace vigil::test
