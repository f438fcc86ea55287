// SPDX-License-Identifier: Apache-2.0
// Async stops: a child stopped through the API under one_for_one or simple_one_for_one is
// not waited for. Its supervisor serves sibling exits, timers and calls meanwhile; calls
// that name the child being stopped wait until it is dead. The fake driver holds each
// async stop until the test says the child died (`stopped`).
#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using AsyncStop = core_test;

request ask(request::kind what, std::string id = {}) {
  request r;
  r.what = what;
  r.id = std::move(id);
  return r;
}

request with_spec(request::kind what, child_spec spec) {
  request r = ask(what);
  r.spec = std::move(spec);
  return r;
}

int count_of(const std::vector<child_event>& events, child_event::kind what) {
  return static_cast<int>(std::count_if(events.begin(), events.end(),
                                        [what](const child_event& e) { return e.what == what; }));
}

class AsyncStopOneForOne : public core_test {
protected:
  pid a; ///< the process of "a" being stopped

  /// a and b run; `vigilctl stop a` is under way, a has not died yet.
  void SetUp() override {
    make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}, 10));
    start();
    take();
    hold_stops = true;
    a = pids["a"];
    call(ask(request::kind::terminate_child, "a"));
    ASSERT_EQ(take(), (steps{"stop~ a"}));
  }
};

TEST_F(AsyncStopOneForOne, ASiblingThatCrashesIsRestartedBeforeTheStopEnds) {
  EXPECT_TRUE(replies.empty()) << "the stop's reply waits for the child's death";
  exit("b");
  EXPECT_EQ(take(), (steps{"start b"}));
  EXPECT_TRUE(replies.empty());
  stopped(a);
  EXPECT_EQ(replies, (std::vector<term>{atoms::ok}));
  EXPECT_EQ(state_of("a"), child_state::stopped);
  EXPECT_EQ(state_of("b"), child_state::running);
}

TEST_F(AsyncStopOneForOne, ASiblingsBackoffTimerFiresWhileTheStopIsPending) {
  uut.reset();
  auto b = worker("b");
  b.backoff = backoff(100ms, 1s);
  make(make_spec(strategy::one_for_one, {worker("a"), b}, 10));
  start();
  a = pids["a"];
  call(ask(request::kind::terminate_child, "a"));
  take();
  exit("b");
  EXPECT_EQ(state_of("b"), child_state::backoff);
  advance(100ms);
  EXPECT_EQ(take(), (steps{"start b"}));
  EXPECT_EQ(state_of("a"), child_state::stopping);
}

TEST_F(AsyncStopOneForOne, WhichChildrenShowsTheChildStoppingWithItsPid) {
  auto rows = uut->which_children(now);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].state, child_state::stopping);
  EXPECT_EQ(rows[0].process, a);
  EXPECT_EQ(uut->count_children().active, 2U) << "a stopping child is still alive";
  stopped(a);
  EXPECT_EQ(uut->which_children(now)[0].process, std::nullopt);
  EXPECT_EQ(uut->count_children().active, 1U);
}

TEST_F(AsyncStopOneForOne, TheStoppingChildsOwnExitIsNotARestart) {
  (void)uut->take_events();
  EXPECT_FALSE(uut->child_exited(a, atoms::shutdown, now)) << "no longer a running child";
  drive();
  stopped(a);
  EXPECT_EQ(take(), steps{});
  auto told = uut->take_events();
  EXPECT_EQ(count_of(told, child_event::kind::stopped), 1);
  EXPECT_EQ(count_of(told, child_event::kind::exited), 0);
  EXPECT_EQ(count_of(told, child_event::kind::decided), 0);
  EXPECT_EQ(state_of("a"), child_state::stopped);
}

TEST_F(AsyncStopOneForOne, TheStoppedEventComesOnceWithTheReasonTheChildDiedWith) {
  (void)uut->take_events();
  stop_reason[a] = atoms::kill; // it ignored :shutdown and was killed at its timeout
  stopped(a);
  auto told = uut->take_events();
  ASSERT_EQ(count_of(told, child_event::kind::stopped), 1);
  EXPECT_EQ(told.front().what, child_event::kind::stopped);
  EXPECT_EQ(told.front().reason, term(atoms::kill));
  EXPECT_EQ(told.front().state, child_state::stopped);
}

TEST_F(AsyncStopOneForOne, ASecondStopOfTheSameChildWaitsForTheFirstAndStopsNothing) {
  call(ask(request::kind::terminate_child, "a"));
  EXPECT_EQ(take(), steps{});
  EXPECT_TRUE(replies.empty());
  stopped(a);
  EXPECT_EQ(take(), steps{});
  EXPECT_EQ(replies, (std::vector<term>{atoms::ok, atoms::ok}));
}

TEST_F(AsyncStopOneForOne, ARestartOfTheChildBeingStoppedStartsItOnceItIsDead) {
  call(ask(request::kind::restart_child, "a"));
  EXPECT_EQ(take(), steps{}) << "the old process still lives";
  stopped(a);
  EXPECT_EQ(take(), (steps{"start a"}));
  ASSERT_EQ(replies.size(), 2U);
  EXPECT_EQ(replies[0], term(atoms::ok));
  EXPECT_EQ(replies[1], vigil::make_tuple(atoms::ok, pids["a"]));
  EXPECT_NE(pids["a"], a);
}

TEST_F(AsyncStopOneForOne, ADeleteDuringTheStopDeletesTheChildOnceItIsDead) {
  call(ask(request::kind::delete_child, "a"));
  EXPECT_EQ(ids(), (std::vector<std::string>{"a", "b"}));
  stopped(a);
  EXPECT_EQ(replies, (std::vector<term>{atoms::ok, atoms::ok}));
  EXPECT_EQ(ids(), (std::vector<std::string>{"b"}));
}

TEST_F(AsyncStopOneForOne, AReplaceDuringTheStopStartsTheNewSpecOnceTheOldOneIsDead) {
  auto next = worker("a");
  next.args = term(std::int64_t{7});
  call(with_spec(request::kind::replace_child, next));
  EXPECT_EQ(take(), steps{});
  stopped(a);
  EXPECT_EQ(take(), (steps{"start a"}));
  ASSERT_EQ(replies.size(), 2U);
  EXPECT_EQ(replies[1], vigil::make_tuple(atoms::ok, pids["a"]));
}

TEST_F(AsyncStopOneForOne, CallsAboutOtherChildrenAreServedAtOnce) {
  call(ask(request::kind::terminate_child, "b"));
  EXPECT_EQ(take(), (steps{"stop~ b"}));
  stopped(pids["b"]);
  EXPECT_EQ(replies, (std::vector<term>{atoms::ok})) << "b's stop did not wait for a's";
  call(ask(request::kind::restart_child, "b"));
  EXPECT_EQ(take(), (steps{"start b"}));
  EXPECT_EQ(replies.size(), 2U);
}

TEST_F(AsyncStopOneForOne, AShutdownLetsThePendingStopEndAndFailsTheCallsThatWaited) {
  call(ask(request::kind::restart_child, "a"));
  uut->shutdown(atoms::shutdown);
  drive();
  EXPECT_EQ(take(), (steps{"stop b"}));
  EXPECT_EQ(replies, (std::vector<term>{vigil::make_tuple(atoms::error, atoms::shutdown)}));
  EXPECT_TRUE(uut->exiting());
  stopped(a);
  EXPECT_EQ(take(), steps{}) << "nothing starts once the supervisor exits";
  EXPECT_EQ(replies.back(), term(atoms::ok)) << "the stop's own reply, once a is dead";
}

TEST_F(AsyncStop, AReplaceStartsTheNewProcessOnlyOnceTheOldOneIsDead) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  take();
  hold_stops = true;
  pid old = pids["a"];
  call(with_spec(request::kind::replace_child, worker("a")));
  EXPECT_EQ(take(), (steps{"stop~ a"}));
  EXPECT_EQ(state_of("a"), child_state::stopping);
  stopped(old);
  EXPECT_EQ(take(), (steps{"start a"}));
  EXPECT_EQ(replies, (std::vector<term>{vigil::make_tuple(atoms::ok, pids["a"])}));
}

TEST_F(AsyncStop, ADynamicChildBeingStoppedIsForgottenOnceDeadAndItsSiblingsRestart) {
  make(make_spec(strategy::simple_one_for_one, {worker("conn")}, 10));
  start();
  hold_stops = true;
  request start_one = ask(request::kind::start_child);
  start_one.args = term();
  call(start_one);
  pid first = pids["conn"];
  call(start_one);
  pid second = pids["conn"];
  take();
  request stop = ask(request::kind::terminate_child);
  stop.child = first;
  call(stop);
  EXPECT_EQ(take(), (steps{"stop~ conn"}));
  EXPECT_EQ(uut->count_children().specs, 2U);
  ASSERT_TRUE(uut->child_exited(second, atom("crash"), now));
  drive();
  EXPECT_EQ(take(), (steps{"start conn"}));
  stopped(first);
  EXPECT_EQ(uut->count_children().specs, 1U);
  EXPECT_EQ(replies.back(), term(atoms::ok));
}

TEST_F(AsyncStop, AGroupStrategyStillStopsSynchronously) {
  make(make_spec(strategy::one_for_all, {worker("a"), worker("b")}));
  start();
  take();
  call(ask(request::kind::terminate_child, "a"));
  EXPECT_EQ(take(), (steps{"stop a"}));
  EXPECT_EQ(replies, (std::vector<term>{atoms::ok}));
}

TEST_F(AsyncStopOneForOne, NewFlagsThatKeepTheStrategyAreServedAtOnce) {
  request flags = ask(request::kind::update_flags);
  flags.flags = make_spec(strategy::one_for_one, {}, 50);
  call(flags);
  EXPECT_EQ(replies, (std::vector<term>{atoms::ok}));
  stopped(a);
  EXPECT_EQ(replies.size(), 2U);
}

TEST_F(AsyncStop, AGroupStrategyWaitsForThePendingStop) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  take();
  hold_stops = true;
  call(ask(request::kind::terminate_child, "a"));
  request flags = ask(request::kind::update_flags);
  flags.flags = make_spec(strategy::one_for_all, {});
  call(flags);
  EXPECT_TRUE(replies.empty());
  stopped(pids["a"]);
  EXPECT_EQ(replies, (std::vector<term>{atoms::ok, atoms::ok}));
  EXPECT_EQ(uut->spec().how, strategy::one_for_all);
}

} // namespace
} // namespace vigil::supervision::test
