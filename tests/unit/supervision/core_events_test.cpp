// SPDX-License-Identifier: Apache-2.0
// supervisor_core's events on a fake clock: what happened to each child (started, exited,
// the decision, stopped by the supervisor, the supervisor giving up), each named by its
// path, in the order a daemon's index and event stream must see them.
#include "vigil/term/text.hpp"

#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using Events = core_test;

const char* kind_name(child_event::kind k) {
  switch (k) {
  case child_event::kind::started: return "started";
  case child_event::kind::exited: return "exited";
  case child_event::kind::decided: return "decided";
  case child_event::kind::stopped: return "stopped";
  case child_event::kind::gave_up: return "gave_up";
  case child_event::kind::removed: return "removed";
  case child_event::kind::changed: return "changed";
  case child_event::kind::updated: return "updated";
  case child_event::kind::ready: return "ready";
  case child_event::kind::waiting: return "waiting";
  }
  return "?";
}

const char* decision_name(exit_report::decision d) {
  switch (d) {
  case exit_report::decision::none: return "none";
  case exit_report::decision::restart: return "restart";
  case exit_report::decision::backoff: return "backoff";
  case exit_report::decision::failed: return "failed";
  case exit_report::decision::escalate: return "escalate";
  }
  return "?";
}

/// The core's events since the last call, as text: "started root/a", "exited root/a :crash",
/// "decided root/a restart", "stopped root/b :shutdown", "gave_up root :shutdown",
/// "removed root/t".
steps events(supervisor_core& core) {
  steps out;
  for (const auto& e : core.take_events()) {
    std::string line = std::string(kind_name(e.what)) + " " + e.path;
    if (e.what == child_event::kind::decided) {
      line += std::string(" ") + decision_name(e.report.what);
    } else if (e.what != child_event::kind::started && e.what != child_event::kind::removed) {
      line += " " + to_string(e.reason);
    }
    out.push_back(line);
  }
  return out;
}

TEST_F(Events, EachStartIsToldWithThePathPidAndSpecOfTheChild) {
  uut.emplace(make_spec(strategy::one_for_one, {worker("a"), worker("b")}),
              supervisor_core::random_source{}, "root/jobs");
  uut->start(now);
  std::vector<child_event> told;
  while (auto st = uut->next()) {
    auto* s = std::get_if<start_step>(&*st);
    ASSERT_NE(s, nullptr);
    pid p{0, next_index++, 1};
    uut->start_result(p, now);
    for (auto& e : uut->take_events()) {
      ASSERT_NE(e.spec, nullptr) << "a started event says what the child runs";
      EXPECT_EQ(e.spec->kind, "test");
      EXPECT_EQ(e.process, p);
      told.push_back(std::move(e));
    }
  }
  ASSERT_EQ(told.size(), 2U);
  EXPECT_EQ(told[0].path, "root/jobs/a");
  EXPECT_EQ(told[1].path, "root/jobs/b");
  EXPECT_EQ(told[1].id, "b");
  EXPECT_FALSE(told[0].dynamic);
}

TEST_F(Events, AnExitIsToldWithItsReasonThenTheDecisionThenTheRestart) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  (void)events(*uut);
  exit("b", atom("crash"));
  EXPECT_EQ(events(*uut),
            (steps{"exited root/b :crash", "decided root/b restart", "started root/b"}));
}

TEST_F(Events, SiblingsStoppedForARestartAreToldAsStoppedOnceTheStopRan) {
  make(make_spec(strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  (void)events(*uut);
  exit("a", atom("crash"));
  EXPECT_EQ(events(*uut), (steps{"exited root/a :crash", "decided root/a restart",
                                 "stopped root/c :shutdown", "stopped root/b :shutdown",
                                 "started root/a", "started root/b", "started root/c"}));
}

TEST_F(Events, ABackoffIsToldWithItsDelayAndTheStartComesWhenItIsDue) {
  auto spec = make_spec(strategy::one_for_one, {worker("a")});
  spec.default_backoff = backoff(1s, 8s);
  make(spec);
  start();
  (void)events(*uut);
  exit("a", atom("crash"));
  auto told = uut->take_events();
  ASSERT_EQ(told.size(), 2U);
  EXPECT_EQ(told[1].what, child_event::kind::decided);
  EXPECT_EQ(told[1].report.what, exit_report::decision::backoff);
  EXPECT_EQ(told[1].report.delay, 1000ms);
  advance(1s);
  told = uut->take_events();
  ASSERT_EQ(told.size(), 2U);
  EXPECT_EQ(told[0].what, child_event::kind::changed) << "out of backoff, its start in flight";
  EXPECT_EQ(told[0].state, supervision::child_state::restarting);
  EXPECT_EQ(told[1].what, child_event::kind::started);
}

TEST_F(Events, AHeldChildIsToldAsFailedWithItsRetry) {
  auto spec = make_spec(strategy::one_for_one, {worker("a"), worker("b")}, 0);
  spec.on_max_restarts = max_restarts_action::hold;
  spec.hold_retry = 10s;
  spec.hold_retry_max = 40s;
  make(spec);
  start();
  (void)events(*uut);
  exit("a", atom("crash"));
  auto told = uut->take_events();
  ASSERT_EQ(told.size(), 2U);
  EXPECT_EQ(told[1].report.what, exit_report::decision::failed);
  EXPECT_TRUE(told[1].report.retry);
  EXPECT_EQ(told[1].report.delay, 10s);
}

TEST_F(Events, ACrashNotRestartedIsToldWithDecisionNone) {
  make(make_spec(strategy::one_for_one, {worker("t", restart_type::temporary)}));
  start();
  (void)events(*uut);
  exit("t", atom("crash"));
  EXPECT_EQ(events(*uut), (steps{"exited root/t :crash", "decided root/t none", "removed root/t"}));
}

TEST_F(Events, ANormalEndIsAnExitWithoutADecision) {
  make(make_spec(strategy::one_for_one, {worker("t", restart_type::transient)}));
  start();
  (void)events(*uut);
  exit("t", atoms::normal);
  EXPECT_EQ(events(*uut), (steps{"exited root/t :normal"}));
}

TEST_F(Events, ASupervisorOverItsIntensityStopsItsChildrenThenSaysItGaveUp) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}, 0));
  start();
  (void)events(*uut);
  exit("a", atom("crash"));
  EXPECT_EQ(events(*uut), (steps{"exited root/a :crash", "decided root/a escalate",
                                 "stopped root/b :shutdown", "gave_up root :shutdown"}));
}

TEST_F(Events, AShutdownTellsEveryStopInReverseOrderAndNoGiveUp) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  (void)events(*uut);
  uut->shutdown(atoms::shutdown);
  drive();
  EXPECT_EQ(events(*uut), (steps{"stopped root/b :shutdown", "stopped root/a :shutdown"}));
}

TEST_F(Events, ADynamicChildKeepsItsKeyAcrossARestartAndIsRemovedWhenItEnds) {
  make(make_spec(strategy::simple_one_for_one, {worker("conn", restart_type::transient)}));
  start();
  request req;
  req.what = request::kind::start_child;
  req.args = term();
  call(req);
  auto first = uut->take_events();
  ASSERT_EQ(first.size(), 1U);
  pid p = *first[0].process;
  ASSERT_TRUE(uut->child_exited(p, atom("crash"), now));
  drive();
  auto told = uut->take_events();
  ASSERT_EQ(told.size(), 3U);
  EXPECT_EQ(told[2].what, child_event::kind::started);
  EXPECT_EQ(told[2].key, first[0].key) << "the restarted child is the same child";
  ASSERT_TRUE(uut->child_exited(*told[2].process, atoms::normal, now));
  drive();
  told = uut->take_events();
  ASSERT_EQ(told.size(), 2U);
  EXPECT_EQ(told[1].what, child_event::kind::removed);
  EXPECT_EQ(told[1].key, first[0].key);
}

TEST_F(Events, ATerminatedChildIsToldAsStopped) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  (void)events(*uut);
  request req;
  req.what = request::kind::terminate_child;
  req.id = "a";
  call(req);
  // Told as stopping when asked to stop, as stopped once dead.
  EXPECT_EQ(events(*uut), (steps{"changed root/a nil", "stopped root/a :shutdown"}));
}

TEST_F(Events, DynamicChildrenShareTheirTemplatePathAndSaySo) {
  make(make_spec(strategy::simple_one_for_one, {worker("conn", restart_type::temporary)}));
  start();
  request req;
  req.what = request::kind::start_child;
  req.args = term();
  call(req);
  call(req);
  auto told = uut->take_events();
  ASSERT_EQ(told.size(), 2U);
  EXPECT_EQ(told[0].path, "root/conn");
  EXPECT_EQ(told[1].path, "root/conn");
  EXPECT_TRUE(told[0].dynamic);
  EXPECT_NE(told[0].process, told[1].process);
}

} // namespace
} // namespace vigil::supervision::test
