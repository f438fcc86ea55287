// SPDX-License-Identifier: Apache-2.0
// supervisor_core's failure domains on a fake clock: on_max_restarts = hold keeps a child
// that used up its budget as `failed` and retries it on a capped exponential schedule while
// its siblings run on; a child that fails to start is held the same way; the default backoff
// makes the first restart of a streak immediate and the later ones wait; every decision is
// reported. Escalation (OTP's) stays the default of the core and is in core_matrix_test.cpp.
#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using Hold = core_test;
using HoldAtStart = core_test;
using QuickDeaths = core_test;
using Reports = core_test;

supervisor_spec holding(std::vector<child_spec> children, std::uint32_t intensity = 1,
                        milliseconds period = 5s) {
  auto s = make_spec(strategy::one_for_one, std::move(children), intensity, period);
  s.on_max_restarts = max_restarts_action::hold;
  s.hold_retry = 10s;
  s.hold_retry_max = 40s;
  return s;
}

const child_info& row(const std::vector<child_info>& rows, const std::string& id) {
  for (const auto& r : rows) {
    if (r.id == id) {
      return r;
    }
  }
  static const child_info none;
  ADD_FAILURE() << "no child " << id;
  return none;
}

TEST_F(Hold, AChildOverItsBudgetIsFailedAndItsSiblingsRunOn) {
  make(holding({worker("a"), worker("b")}));
  start();
  pid b = pids["b"];
  take();
  exit("a");
  EXPECT_EQ(take(), (steps{"start a"}));
  exit("a", atom("boom")); // the second restart in 5 s: over intensity 1
  EXPECT_TRUE(take().empty()) << "nothing is stopped, nothing escalates";
  EXPECT_FALSE(uut->exiting());
  EXPECT_FALSE(uut->gave_up());
  auto rows = uut->which_children(now);
  EXPECT_EQ(row(rows, "a").state, child_state::failed);
  EXPECT_EQ(row(rows, "a").reason, ":boom") << "the exit reason as a term";
  EXPECT_TRUE(row(rows, "a").retry);
  EXPECT_EQ(row(rows, "a").backoff_left, 10s);
  EXPECT_EQ(row(rows, "b").state, child_state::running);
  EXPECT_EQ(pids["b"], b);
}

TEST_F(Hold, EachChildHasItsOwnBudget) {
  make(holding({worker("a"), worker("b")}));
  start();
  exit("a");
  exit("a"); // a is held
  take();
  exit("b"); // b's first restart: its own budget is untouched by a's
  EXPECT_EQ(take(), (steps{"start b"}));
  EXPECT_EQ(state_of("b"), child_state::running);
}

TEST_F(Hold, RetriesDoubleUpToTheCapWhileTheChildDiesSoon) {
  make(holding({worker("a")}));
  start();
  exit("a");
  exit("a");
  take();
  for (auto wait : {10s, 20s, 40s, 40s}) {
    EXPECT_EQ(uut->next_deadline(), now + wait);
    advance(wait - 1ms);
    EXPECT_TRUE(take().empty()) << wait.count();
    advance(1ms);
    EXPECT_EQ(take(), (steps{"start a"})) << wait.count();
    exit("a"); // dies soon after its retry: failed again, straight away
    EXPECT_EQ(state_of("a"), child_state::failed);
    EXPECT_TRUE(take().empty());
  }
}

TEST_F(Hold, AChildThatStaysUpAfterItsRetryIsHealthyAgain) {
  make(holding({worker("a")}));
  start();
  exit("a");
  exit("a");
  advance(10s);
  take();
  advance(5s); // stayed up for the period (no backoff: period is its reset_after)
  exit("a");
  EXPECT_EQ(take(), (steps{"start a"})) << "a normal restart, within a fresh budget";
  EXPECT_EQ(state_of("a"), child_state::running);
  exit("a");
  EXPECT_EQ(state_of("a"), child_state::failed);
  EXPECT_EQ(uut->next_deadline(), now + 10s) << "the schedule starts over";
}

TEST_F(Hold, AZeroRetryNeverRetries) {
  auto spec = holding({worker("a")});
  spec.hold_retry = 0ms;
  make(spec);
  start();
  exit("a");
  exit("a");
  take();
  EXPECT_FALSE(uut->next_deadline().has_value());
  advance(24h);
  EXPECT_TRUE(take().empty());
  auto r = row(uut->which_children(now), "a");
  EXPECT_EQ(r.state, child_state::failed);
  EXPECT_FALSE(r.retry);
}

TEST_F(Hold, AnOperatorRestartStartsAFailedChildAndResetsItsSchedule) {
  make(holding({worker("a")}));
  start();
  exit("a");
  exit("a");
  advance(10s);
  exit("a"); // held a second time: the next retry is 20 s away
  take();
  request req;
  req.what = request::kind::restart_child;
  req.id = "a";
  call(req);
  EXPECT_EQ(take(), (steps{"start a"}));
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0][0], term(atoms::ok));
  exit("a");
  EXPECT_EQ(take(), (steps{"start a"})) << "a fresh budget";
  exit("a");
  EXPECT_EQ(uut->next_deadline(), now + 10s) << "the first retry delay again";
}

TEST_F(Hold, TerminateCancelsTheRetry) {
  make(holding({worker("a")}));
  start();
  exit("a");
  exit("a");
  take();
  request req;
  req.what = request::kind::terminate_child;
  req.id = "a";
  call(req);
  EXPECT_EQ(state_of("a"), child_state::stopped);
  advance(1h);
  EXPECT_TRUE(take().empty());
}

TEST_F(Hold, AReplacedChildStartsAfresh) {
  make(holding({worker("a")}));
  start();
  exit("a");
  exit("a");
  take();
  auto spec = worker("a");
  spec.kind = "other";
  request req;
  req.what = request::kind::replace_child;
  req.spec = spec;
  call(req);
  EXPECT_EQ(take(), (steps{"start a"}));
  EXPECT_EQ(state_of("a"), child_state::running);
}

TEST_F(Hold, AFailedRetryIsFailedAgainWithALongerWait) {
  make(holding({worker("a")}));
  start();
  exit("a");
  exit("a");
  take();
  failures["a"] = 1;
  advance(10s);
  EXPECT_EQ(take(), (steps{"start! a"}));
  EXPECT_EQ(state_of("a"), child_state::failed);
  EXPECT_EQ(row(uut->which_children(now), "a").reason, "no a");
  EXPECT_EQ(uut->next_deadline(), now + 20s);
}

TEST_F(Hold, OneForAllLeavesAHeldSiblingOnItsOwnSchedule) {
  auto spec = holding({worker("a"), worker("b")}, 1);
  spec.how = strategy::one_for_all;
  make(spec);
  start();
  exit("a");
  exit("a"); // a held
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"start b"})) << "b restarts; held a keeps waiting";
  EXPECT_EQ(state_of("a"), child_state::failed);
}

TEST_F(Hold, AFailedRowCrossesTheProtocol) {
  make(holding({worker("a"), worker("b")}));
  start();
  exit("a");
  exit("a", atom("boom"));
  auto rows = protocol::children_from_term(protocol::to_term(uut->which_children(now)));
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, uut->which_children(now));
  EXPECT_EQ(row(*rows, "a").state, child_state::failed);
  EXPECT_EQ(row(*rows, "a").reason, ":boom");
  EXPECT_EQ(row(*rows, "a").backoff_left, 10s);
}

TEST_F(HoldAtStart, AChildThatCannotStartIsFailedAndTheOthersStart) {
  make(holding({worker("a"), worker("bad"), worker("c")}));
  failures["bad"] = 1;
  start();
  EXPECT_EQ(take(), (steps{"start a", "start! bad", "start c"}));
  EXPECT_FALSE(uut->exiting());
  EXPECT_FALSE(uut->start_error().has_value());
  auto r = row(uut->which_children(now), "bad");
  EXPECT_EQ(r.state, child_state::failed);
  EXPECT_EQ(r.reason, "no bad");
  advance(10s);
  EXPECT_EQ(take(), (steps{"start bad"}));
  EXPECT_EQ(state_of("bad"), child_state::running);
}

TEST_F(HoldAtStart, EscalateStillFailsTheStart) {
  auto spec = holding({worker("a"), worker("bad")});
  spec.on_max_restarts = max_restarts_action::escalate;
  make(spec);
  failures["bad"] = 1;
  start();
  EXPECT_TRUE(uut->exiting());
  ASSERT_TRUE(uut->start_error().has_value());
}

TEST_F(HoldAtStart, ANewChildThatFailsToStartStaysFailedAndTheCallerIsTold) {
  make(holding({worker("a")}));
  start();
  take();
  failures["n"] = 1;
  request req;
  req.what = request::kind::start_child;
  req.spec = worker("n");
  call(req);
  EXPECT_EQ(take(), (steps{"start! n"}));
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0][0], term(atoms::error));
  EXPECT_EQ(state_of("n"), child_state::failed);
}

TEST_F(QuickDeaths, TheFirstRestartIsImmediateTheNextOnesWait) {
  auto spec = make_spec(strategy::one_for_one, {worker("a")}, 100, 1h);
  spec.default_backoff = backoff(1s, 4s);
  spec.default_backoff->immediate = 1;
  make(spec);
  start();
  take();
  exit("a");
  EXPECT_EQ(take(), (steps{"start a"})) << "the first restart after a death is immediate";
  for (auto wait : {1s, 2s, 4s, 4s}) {
    exit("a");
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(state_of("a"), child_state::backoff);
    advance(wait);
    EXPECT_EQ(take(), (steps{"start a"})) << wait.count();
  }
  advance(10s); // stayed up for reset_after: the streak is over
  exit("a");
  EXPECT_EQ(take(), (steps{"start a"}));
}

TEST_F(QuickDeaths, AChildsOwnBackoffWins) {
  auto spec = make_spec(strategy::one_for_one, {worker("a")}, 100, 1h);
  spec.default_backoff = backoff(1s, 4s);
  spec.children[0].backoff = backoff(100ms, 100ms);
  make(spec);
  start();
  exit("a");
  EXPECT_EQ(uut->which_children(now)[0].backoff_left, 100ms);
}

TEST_F(QuickDeaths, ACrashLoopEndsHeldWithoutSpinning) {
  auto spec = holding({worker("loop"), worker("ok")}, 3, 5s);
  spec.default_backoff = backoff(1s, 30s);
  spec.default_backoff->immediate = 1;
  make(spec);
  start();
  take();
  int starts = 0;
  for (int i = 0; i < 100 && state_of("loop") != child_state::failed; ++i) {
    if (state_of("loop") == child_state::running) {
      exit("loop");
    } else {
      advance(std::chrono::ceil<milliseconds>(*uut->next_deadline() - now));
    }
    for (const auto& s : take()) {
      starts += s == "start loop" ? 1 : 0;
    }
  }
  EXPECT_EQ(state_of("loop"), child_state::failed);
  EXPECT_EQ(starts, 3) << "intensity 3: three restarts, the fourth death holds it";
  EXPECT_EQ(state_of("ok"), child_state::running);
}

TEST_F(Reports, EveryDecisionIsReported) {
  auto spec = holding({worker("a"), worker("t", restart_type::temporary)}, 2);
  spec.default_backoff = backoff(1s, 1s);
  spec.default_backoff->immediate = 1;
  make(spec);
  start();
  (void)decisions();
  pid first = pids["a"];
  exit("a", atom("e1"));
  auto r = decisions();
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0].id, "a");
  EXPECT_EQ(r[0].process, first);
  EXPECT_EQ(r[0].reason, term(atom("e1")));
  EXPECT_EQ(r[0].restarts, 1U);
  EXPECT_EQ(r[0].intensity, 2U);
  EXPECT_EQ(r[0].what, exit_report::decision::restart);
  exit("a");
  r = decisions();
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0].what, exit_report::decision::backoff);
  EXPECT_EQ(r[0].delay, 1s);
  advance(1s);
  exit("a");
  r = decisions();
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0].what, exit_report::decision::failed);
  EXPECT_EQ(r[0].restarts, 3U);
  EXPECT_EQ(r[0].delay, 10s);
  EXPECT_TRUE(r[0].retry);
  exit("t");
  r = decisions();
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0].what, exit_report::decision::none);
}

TEST_F(Reports, ANormalEndThatIsNotRestartedIsNoReport) {
  make(make_spec(strategy::one_for_one,
                 {worker("t", restart_type::temporary), worker("u", restart_type::transient)}));
  start();
  (void)decisions();
  exit("t", atoms::normal);
  exit("u", atoms::shutdown);
  EXPECT_TRUE(decisions().empty());
}

TEST_F(Reports, EscalationIsReportedWithTheChild) {
  make(make_spec(strategy::one_for_one, {worker("a")}, 0));
  start();
  (void)decisions();
  exit("a", atom("boom"));
  EXPECT_TRUE(uut->gave_up());
  auto r = decisions();
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0].id, "a");
  EXPECT_EQ(r[0].what, exit_report::decision::escalate);
  EXPECT_EQ(r[0].restarts, 1U);
  EXPECT_EQ(r[0].intensity, 0U);
}

} // namespace
} // namespace vigil::supervision::test
