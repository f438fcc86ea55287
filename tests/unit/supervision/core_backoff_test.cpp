// SPDX-License-Identifier: Apache-2.0
// supervisor_core: restart backoff on a fake clock, failed restarts and their retries, the
// restart-loop regression, significant children and auto_shutdown.
#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using Backoff = core_test;
using Retry = core_test;
using RestartLoop = core_test;
using AutoShutdown = core_test;

child_spec with_backoff(std::string id, backoff_policy policy) {
  auto c = worker(std::move(id));
  c.backoff = policy;
  return c;
}

TEST_F(Backoff, TheFirstRestartWaitsTheInitialDelay) {
  make(make_spec(strategy::one_for_one, {with_backoff("a", backoff(100ms, 1s))}, 10));
  start();
  take();
  exit("a");
  EXPECT_TRUE(take().empty());
  auto rows = uut->which_children(now);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].state, child_state::backoff);
  EXPECT_EQ(rows[0].backoff_left, 100ms);
  EXPECT_FALSE(rows[0].process.has_value());
  EXPECT_EQ(uut->next_deadline(), now + 100ms);
  advance(99ms);
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(uut->which_children(now)[0].backoff_left, 1ms);
  advance(1ms);
  EXPECT_EQ(take(), (steps{"start a"}));
  EXPECT_EQ(state_of("a"), child_state::running);
}

TEST_F(Backoff, DelaysGrowExponentiallyUpToMax) {
  make(make_spec(strategy::one_for_one, {with_backoff("a", backoff(100ms, 500ms))}, 100, 1h));
  start();
  for (auto expected : {100ms, 200ms, 400ms, 500ms, 500ms}) {
    exit("a");
    advance(expected - 1ms);
    EXPECT_EQ(state_of("a"), child_state::backoff) << expected.count();
    advance(1ms);
    EXPECT_EQ(state_of("a"), child_state::running) << expected.count();
  }
}

TEST_F(Backoff, ResetsOnceTheChildStayedUpForResetAfter) {
  make(
      make_spec(strategy::one_for_one, {with_backoff("a", backoff(100ms, 10s, 2.0, 1s))}, 100, 1h));
  start();
  exit("a");
  advance(100ms);
  exit("a"); // second in a row: 200 ms
  advance(200ms);
  EXPECT_EQ(state_of("a"), child_state::running);
  advance(1s); // stayed up for reset_after
  exit("a");
  EXPECT_EQ(uut->which_children(now)[0].backoff_left, 100ms);
}

TEST_F(Backoff, JitterComesFromTheRandomSource) {
  auto policy = backoff(1000ms, 10s);
  policy.jitter = 0.2;
  make(make_spec(strategy::one_for_one, {with_backoff("a", policy)}), [] { return 0.0; });
  start();
  exit("a");
  EXPECT_EQ(uut->which_children(now)[0].backoff_left, 800ms);
}

// Backoff never keeps the supervisor from serving its other children.
TEST_F(Backoff, OtherChildrenRestartAtOnceMeanwhile) {
  make(make_spec(strategy::one_for_one, {with_backoff("a", backoff(1h, 1h)), worker("b")}, 10));
  start();
  take();
  exit("a");
  exit("b");
  EXPECT_EQ(take(), (steps{"start b"}));
  EXPECT_EQ(state_of("a"), child_state::backoff);
}

// ... nor from a stop request: pending restarts are dropped.
TEST_F(Backoff, AShutdownDuringBackoffStopsAtOnce) {
  make(make_spec(strategy::one_for_one, {worker("a"), with_backoff("b", backoff(1h, 1h))}));
  start();
  take();
  exit("b");
  uut->shutdown(atoms::shutdown);
  drive();
  EXPECT_EQ(take(), (steps{"stop a"}));
  EXPECT_TRUE(uut->exiting());
  EXPECT_EQ(state_of("b"), child_state::stopped);
  EXPECT_FALSE(uut->next_deadline().has_value());
}

TEST_F(Backoff, TerminateChildCancelsThePendingRestart) {
  make(make_spec(strategy::one_for_one, {with_backoff("a", backoff(1s, 1s))}));
  start();
  exit("a");
  request req;
  req.what = request::kind::terminate_child;
  req.id = "a";
  call(req);
  EXPECT_EQ(replies.back(), term(atoms::ok));
  EXPECT_EQ(state_of("a"), child_state::stopped);
  take();
  advance(2s);
  EXPECT_TRUE(take().empty());
}

TEST_F(Backoff, TheNextDeadlineSkipsCancelledRestarts) {
  make(make_spec(strategy::one_for_one,
                 {with_backoff("a", backoff(1s, 1s)), with_backoff("b", backoff(5s, 5s))}));
  start();
  exit("a");
  exit("b");
  EXPECT_EQ(uut->next_deadline(), now + 1s);
  request req;
  req.what = request::kind::terminate_child;
  req.id = "a";
  call(req);
  EXPECT_EQ(uut->next_deadline(), now + 5s);
  take();
  advance(5s);
  EXPECT_EQ(take(), (steps{"start b"}));
  EXPECT_FALSE(uut->next_deadline().has_value());
}

// With one_for_all the whole group waits for the crashed child's delay.
TEST_F(Backoff, OneForAllDelaysTheWholeGroup) {
  make(make_spec(strategy::one_for_all,
                 {worker("a"), with_backoff("b", backoff(50ms, 1s)), worker("c")}));
  start();
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"stop c,a"}));
  EXPECT_EQ(state_of("a"), child_state::backoff);
  EXPECT_EQ(state_of("c"), child_state::backoff);
  advance(50ms);
  EXPECT_EQ(take(), (steps{"start a", "start b", "start c"}));
}

// A sibling's restart does not start a rest_for_one child before its own delay is over,
// nor the children after it.
TEST_F(Backoff, RestForOneKeepsALaterChildsDelayAndTheOrder) {
  make(make_spec(strategy::rest_for_one,
                 {worker("a"), with_backoff("b", backoff(1s, 1s)), worker("c")}));
  start();
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"stop c"}));
  now += 100ms;
  exit("a");
  EXPECT_TRUE(take().empty()) << "a waits with the group until b's delay is over";
  advance(900ms);
  EXPECT_EQ(take(), (steps{"start a", "start b", "start c"}));
}

// Backoff works inside the intensity window: every restart still counts.
TEST_F(Backoff, RestartsStillCountAgainstTheIntensity) {
  make(make_spec(strategy::one_for_one, {with_backoff("a", backoff(10ms, 10ms))}, 2, 1h));
  start();
  exit("a");
  advance(10ms);
  exit("a");
  advance(10ms);
  exit("a");
  EXPECT_TRUE(uut->exiting());
}

// OTP's try_again_restart: a failed restart is retried, as a new restart.
TEST_F(Retry, AFailedRestartIsRetriedUntilItStarts) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}, 5));
  start();
  take();
  failures["a"] = 2;
  exit("a");
  EXPECT_EQ(take(), (steps{"start! a"}));
  EXPECT_EQ(state_of("a"), child_state::restarting);
  EXPECT_EQ(uut->next_deadline(), now) << "retried after the mailbox, at once";
  advance(0ms);
  EXPECT_EQ(take(), (steps{"start! a", "start a"}));
  EXPECT_FALSE(uut->exiting());
}

TEST_F(Retry, AFailedGroupRestartRestartsTheGroupAgain) {
  make(make_spec(strategy::one_for_all, {worker("a"), worker("b"), worker("c")}, 5));
  start();
  take();
  failures["b"] = 1;
  exit("c");
  EXPECT_EQ(take(), (steps{"stop b,a", "start a", "start! b"}));
  EXPECT_EQ(state_of("c"), child_state::restarting);
  advance(0ms);
  EXPECT_EQ(take(), (steps{"stop a", "start a", "start b", "start c"}));
}

TEST_F(Retry, AFailedRestartOfABackoffChildWaitsTheNextDelay) {
  make(make_spec(strategy::one_for_one, {with_backoff("a", backoff(100ms, 1s))}, 10));
  start();
  failures["a"] = 1;
  exit("a");
  advance(100ms);
  EXPECT_EQ(state_of("a"), child_state::backoff);
  EXPECT_EQ(uut->which_children(now)[0].backoff_left, 200ms);
  advance(200ms);
  EXPECT_EQ(state_of("a"), child_state::running);
}

// supervisor_SUITE's hanging_restart_loop: a child that can never start again must make its
// supervisor give up, not spin.
TEST_F(RestartLoop, AChildThatCannotStartEscalatesInsteadOfLooping) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}, 3));
  start();
  take();
  failures["b"] = 1'000'000;
  exit("b");
  advance(0ms);
  EXPECT_TRUE(uut->exiting());
  EXPECT_EQ(take(), (steps{"start! b", "start! b", "start! b", "stop a"}))
      << "three restarts were allowed, the fourth escalated";
}

TEST_F(RestartLoop, AChildThatCrashesAtOnceEscalatesAfterTheIntensity) {
  make(make_spec(strategy::one_for_all, {worker("a"), worker("b")}, 3));
  start();
  int exits = 0;
  while (!uut->exiting() && exits < 100) {
    exit("b");
    ++exits;
  }
  EXPECT_EQ(exits, 4);
}

// A crashing child with backoff keeps restarting with growing delays while the supervisor
// stays responsive; with the intensity period shorter than the delays it never escalates.
TEST_F(RestartLoop, ABackoffChildNeverSpinsTheSupervisor) {
  make(make_spec(strategy::one_for_one, {with_backoff("a", backoff(1s, 8s))}, 1, 500ms));
  start();
  for (int i = 0; i < 20; ++i) {
    exit("a");
    EXPECT_EQ(uut->count_children().active, 0U);
    advance(8s);
    ASSERT_EQ(state_of("a"), child_state::running) << i;
  }
  EXPECT_FALSE(uut->exiting());
}

child_spec significant(std::string id, restart_type type = restart_type::transient) {
  auto c = worker(std::move(id), type);
  c.significant = true;
  return c;
}

// semantics 22 (OTP 24)
TEST_F(AutoShutdown, AnySignificantChildEndingStopsTheSupervisor) {
  auto spec = make_spec(strategy::one_for_one, {worker("a"), significant("s"), worker("c")});
  spec.auto_shutdown = auto_shutdown::any_significant;
  make(spec);
  start();
  take();
  exit("s", atoms::normal);
  EXPECT_EQ(take(), (steps{"stop c,a"}));
  EXPECT_TRUE(uut->exiting());
  EXPECT_EQ(uut->exit_reason(), term(atoms::shutdown));
}

TEST_F(AutoShutdown, AllSignificantWaitsForTheLastOne) {
  auto spec = make_spec(strategy::one_for_one,
                        {significant("s1"), significant("s2", restart_type::temporary)});
  spec.auto_shutdown = auto_shutdown::all_significant;
  make(spec);
  start();
  exit("s2", atom("crash"));
  EXPECT_FALSE(uut->exiting());
  exit("s1", atoms::shutdown);
  EXPECT_TRUE(uut->exiting());
}

TEST_F(AutoShutdown, ARestartedSignificantChildDoesNotCount) {
  auto spec = make_spec(strategy::one_for_one, {significant("s"), worker("b")});
  spec.auto_shutdown = auto_shutdown::any_significant;
  make(spec);
  start();
  take();
  exit("s", atom("crash")); // transient + abnormal: restarted
  EXPECT_EQ(take(), (steps{"start s"}));
  EXPECT_FALSE(uut->exiting());
}

// Only self-terminations count, not terminate_child.
TEST_F(AutoShutdown, TerminateChildOfASignificantChildDoesNotCount) {
  auto spec = make_spec(strategy::one_for_one, {significant("s"), worker("b")});
  spec.auto_shutdown = auto_shutdown::any_significant;
  make(spec);
  start();
  request req;
  req.what = request::kind::terminate_child;
  req.id = "s";
  call(req);
  EXPECT_FALSE(uut->exiting());
}

TEST_F(AutoShutdown, NeverIgnoresSignificantChildren) {
  make(make_spec(strategy::one_for_one, {significant("s"), worker("b")}));
  start();
  exit("s", atoms::normal);
  EXPECT_FALSE(uut->exiting());
}

} // namespace
} // namespace vigil::supervision::test
