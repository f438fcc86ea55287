// SPDX-License-Identifier: Apache-2.0
// supervisor_core's start gating (docs/readiness.md): a child with a readiness check holds
// the starts after it until it says it is ready, exits, or its ready_timeout passes.
#include "vigil/supervision/readiness.hpp"

#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

child_spec gated(std::string id, milliseconds timeout = 30s) {
  child_spec c = worker(std::move(id));
  c.ready.kind = probe_kind::notify;
  c.ready_timeout = timeout;
  return c;
}

class Readiness : public core_test {
public:
  /// The child `id` says it is ready.
  void ready(const std::string& id) {
    ASSERT_TRUE(pids.count(id)) << id;
    EXPECT_TRUE(uut->child_ready(pids[id], term("up"), now)) << id;
    drive();
  }

  [[nodiscard]] child_info row(const std::string& id) const {
    for (const auto& c : uut->which_children(now)) {
      if (c.id == id) {
        return c;
      }
    }
    ADD_FAILURE() << "no child " << id;
    return {};
  }

  /// The db -> app -> proxy chain of docs/readiness.md, each waiting for the one before.
  void chain(std::uint32_t intensity = 3) {
    make(make_spec(strategy::rest_for_one, {gated("db"), gated("app"), gated("proxy")}, intensity));
  }
};

request ask(request::kind what, std::string id = {}) {
  request r;
  r.what = what;
  r.id = std::move(id);
  return r;
}

TEST_F(Readiness, AChainStartsInOrderEachAfterTheOneBeforeIsReady) {
  chain();
  start();
  EXPECT_EQ(take(), (steps{"start db"}));
  EXPECT_EQ(state_of("db"), child_state::starting);
  EXPECT_EQ(row("db").waiting_for, "notify");
  EXPECT_TRUE(uut->initializing());
  ready("db");
  EXPECT_EQ(take(), (steps{"start app"}));
  EXPECT_EQ(state_of("db"), child_state::running);
  ready("app");
  EXPECT_EQ(take(), (steps{"start proxy"}));
  ready("proxy");
  EXPECT_TRUE(take().empty());
  EXPECT_FALSE(uut->initializing());
  EXPECT_EQ(state_of("proxy"), child_state::running);
}

TEST_F(Readiness, AKilledDbRestartsAppAndProxyOnlyOnceItIsReadyAgain) {
  chain();
  start();
  ready("db");
  ready("app");
  ready("proxy");
  take();
  exit("db");
  EXPECT_EQ(take(), (steps{"stop proxy,app", "start db"}));
  EXPECT_EQ(state_of("app"), child_state::restarting);
  ready("db");
  EXPECT_EQ(take(), (steps{"start app"}));
  ready("app");
  EXPECT_EQ(take(), (steps{"start proxy"}));
}

TEST_F(Readiness, TheSupervisorServesCallsAndExitsWhileAChildIsStarting) {
  make(make_spec(strategy::one_for_one, {worker("log"), gated("db"), worker("app")}));
  start();
  EXPECT_EQ(take(), (steps{"start log", "start db"}));
  call(ask(request::kind::which_children));
  ASSERT_EQ(replies.size(), 1U) << "a call is answered while db is starting";
  exit("log");
  EXPECT_EQ(take(), (steps{"start log"})) << "a crash is restarted while db is starting";
  ready("db");
  EXPECT_EQ(take(), (steps{"start app"}));
}

TEST_F(Readiness, NotReadyInTimeKillsTheChildAndFailsTheInitialStart) {
  make(make_spec(strategy::one_for_one, {gated("db", 2s), worker("app")}));
  start();
  take();
  advance(1s);
  EXPECT_TRUE(take().empty());
  advance(1s);
  EXPECT_EQ(take(), (steps{"stop db"}));
  ASSERT_TRUE(uut->exiting());
  ASSERT_TRUE(uut->start_error().has_value());
  EXPECT_EQ(uut->start_error()->context, "failed to start child 'db': {:not_ready, \"notify\"}");
}

TEST_F(Readiness, NotReadyInTimeOnARestartCountsAsAFailedStartAgainstTheIntensity) {
  make(make_spec(strategy::rest_for_one, {gated("db", 2s), worker("app")}, 2));
  start();
  ready("db");
  take();
  exit("db");
  EXPECT_EQ(take(), (steps{"stop app", "start db"}));
  advance(2s);
  EXPECT_EQ(take(), (steps{"stop db", "start db"})) << "the failed start is retried";
  EXPECT_FALSE(uut->exiting());
  advance(2s);
  EXPECT_EQ(take(), (steps{"stop db"}));
  EXPECT_TRUE(uut->exiting()) << "a third restart in the period is over the intensity";
  auto reports = decisions();
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().what, exit_report::decision::escalate);
  EXPECT_EQ(reports.back().reason, term("{:not_ready, \"notify\"}"));
}

TEST_F(Readiness, AChildThatDiesBeforeItIsReadyIsAFailedStartWithItsReason) {
  make(make_spec(strategy::one_for_one, {gated("db"), worker("app")}));
  start();
  take();
  exit("db", atom("port_in_use"));
  EXPECT_TRUE(uut->exiting());
  EXPECT_EQ(uut->start_error()->context, "failed to start child 'db': :port_in_use");
  EXPECT_EQ(take(), steps{}) << "app never started";
}

TEST_F(Readiness, UnderHoldANotReadyChildIsHeldAndTheOthersStart) {
  auto spec = make_spec(strategy::one_for_one, {gated("db", 2s), worker("app")});
  spec.on_max_restarts = max_restarts_action::hold;
  make(spec);
  start();
  advance(2s);
  EXPECT_EQ(take(), (steps{"start db", "stop db", "start app"}));
  EXPECT_EQ(state_of("db"), child_state::failed);
  EXPECT_EQ(row("db").reason, "{:not_ready, \"notify\"}");
  EXPECT_FALSE(uut->initializing());
}

TEST_F(Readiness, StartChildRepliesOnceTheChildIsReady) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  take();
  request r = ask(request::kind::start_child);
  r.spec = gated("db");
  call(r);
  EXPECT_EQ(take(), (steps{"start db"}));
  EXPECT_TRUE(replies.empty()) << "no reply before it is ready";
  ready("db");
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0], vigil::make_tuple(atoms::ok, pids["db"]));
}

TEST_F(Readiness, StartChildOfAChildThatIsNotReadyInTimeRepliesNotReady) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  request r = ask(request::kind::start_child);
  r.spec = gated("db", 1s);
  call(r);
  advance(1s);
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0], vigil::make_tuple(atoms::error, term("{:not_ready, \"notify\"}")));
}

// A reload that adds a child in the middle of the order (start_child before an id).
TEST_F(Readiness, AChildAddedBeforeAnotherIsWaitedForAndRepliedToOnceReady) {
  make(make_spec(strategy::rest_for_one, {worker("db"), worker("proxy")}));
  start();
  take();
  request r = ask(request::kind::start_child);
  r.spec = gated("app");
  r.before = "proxy";
  call(r);
  EXPECT_EQ(take(), (steps{"start app"}));
  EXPECT_EQ(ids(), (std::vector<std::string>{"db", "app", "proxy"}));
  EXPECT_EQ(state_of("app"), child_state::starting);
  EXPECT_TRUE(replies.empty());
  ready("app");
  ASSERT_EQ(replies.size(), 1U);
  exit("db");
  EXPECT_EQ(take(), (steps{"stop proxy,app", "start db", "start app"}));
  EXPECT_EQ(state_of("proxy"), child_state::restarting) << "proxy waits for app again";
  ready("app");
  EXPECT_EQ(take(), (steps{"start proxy"}));
}

TEST_F(Readiness, TerminatingAStartingChildLetsTheChildrenAfterItStart) {
  make(make_spec(strategy::one_for_one, {gated("db"), worker("app")}));
  start();
  take();
  call(ask(request::kind::terminate_child, "db"));
  advance(0ms);
  EXPECT_EQ(take(), (steps{"stop~ db", "start app"}));
}

TEST_F(Readiness, AWaitingMessageSaysWhatTheChildWaitsFor) {
  make(make_spec(strategy::one_for_one, {gated("db")}));
  start();
  EXPECT_TRUE(uut->child_waiting(pids["db"], "replaying the journal"));
  EXPECT_EQ(row("db").waiting_for, "replaying the journal");
  auto events = uut->take_events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().what, child_event::kind::waiting);
}

TEST_F(Readiness, AReadyMessageFromAnotherProcessIsIgnored) {
  make(make_spec(strategy::one_for_one, {worker("a"), gated("db")}));
  start();
  EXPECT_FALSE(uut->child_ready(pid{0, 999, 1}, term(""), now));
  EXPECT_FALSE(uut->child_ready(pids["a"], term(""), now)) << "a is no child waited for";
  EXPECT_EQ(state_of("db"), child_state::starting);
}

TEST_F(Readiness, AChildWithNoReadinessCheckIsReadyOnceStarted) {
  make(make_spec(strategy::rest_for_one, {worker("db"), worker("app")}));
  start();
  EXPECT_EQ(take(), (steps{"start db", "start app"}));
  for (const auto& e : uut->take_events()) {
    EXPECT_NE(e.what, child_event::kind::waiting) << "no readiness, no waiting";
  }
}

TEST_F(Readiness, AStopWhileAChildIsStartingStopsIt) {
  chain();
  start();
  take();
  uut->shutdown(atoms::shutdown);
  drive();
  EXPECT_EQ(take(), (steps{"stop db"}));
}

TEST(ReadinessProtocol, DetailNamesWhatIsWaitedFor) {
  probe_spec p;
  p.kind = probe_kind::tcp;
  p.target = "127.0.0.1:6379";
  EXPECT_EQ(ready_detail(p), "tcp 127.0.0.1:6379");
  p.kind = probe_kind::exec;
  p.command = {"pg_isready", "-q"};
  EXPECT_EQ(ready_detail(p), "exec pg_isready -q");
}

TEST(ReadinessProtocol, MalformedMessagesAreNotReadiness) {
  pid p{0, 5, 1};
  EXPECT_TRUE(decode_readiness(vigil::make_tuple(ready_tag(), p, "")));
  EXPECT_FALSE(decode_readiness(vigil::make_tuple(ready_tag(), p)));
  EXPECT_FALSE(decode_readiness(vigil::make_tuple(ready_tag(), "x", "")));
  EXPECT_FALSE(decode_readiness(vigil::make_tuple(ready_tag(), p, 3)));
  EXPECT_FALSE(decode_readiness(vigil::make_tuple(atom("other"), p, "")));
}

} // namespace
} // namespace vigil::supervision::test
