// SPDX-License-Identifier: Apache-2.0
// supervisor_core's spec changes, as a reload makes them: replace_child, update_child and
// update_flags, on a fake clock.
#include "vigil/supervision/protocol.hpp"

#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using ReplaceChild = core_test;
using UpdateChild = core_test;
using UpdateFlags = core_test;
using GiveUp = core_test;
using InsertChild = core_test;

request change(request::kind what, child_spec spec) {
  request r;
  r.what = what;
  r.id = spec.id;
  r.spec = std::move(spec);
  return r;
}

request replace(child_spec spec) {
  return change(request::kind::replace_child, std::move(spec));
}

request update(child_spec spec) {
  return change(request::kind::update_child, std::move(spec));
}

request flags(supervisor_spec spec) {
  request r;
  r.what = request::kind::update_flags;
  r.flags = std::move(spec);
  return r;
}

request insert(child_spec spec, std::string before) {
  request r;
  r.what = request::kind::start_child;
  r.spec = std::move(spec);
  r.before = std::move(before);
  return r;
}

term failure(const char* reason) {
  return vigil::make_tuple(atoms::error, atom(reason));
}

child_spec with_args(child_spec c, std::int64_t n) {
  c.args = term::map({{atom("n"), n}});
  return c;
}

TEST_F(ReplaceChild, StopsTheChildAndStartsTheNewSpecAtItsPlace) {
  make(make_spec(strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  take();
  pid old_a = pids["a"];
  pid old_c = pids["c"];
  uut->handle(replace(with_args(worker("b"), 2)), term(atom("tag")), now);
  auto stop = uut->next();
  ASSERT_TRUE(stop && std::holds_alternative<stop_step>(*stop));
  auto start_b = uut->next();
  ASSERT_TRUE(start_b && std::holds_alternative<start_step>(*start_b));
  EXPECT_EQ(std::get<start_step>(*start_b).spec->args, term::map({{atom("n"), 2}}));
  uut->start_result(pid{0, 50, 1}, now);
  pids["b"] = pid{0, 50, 1};
  owners[pid{0, 50, 1}] = "b";
  drive();
  EXPECT_EQ(replies.at(0), vigil::make_tuple(atoms::ok, pid{0, 50, 1}));
  EXPECT_EQ(ids(), (std::vector<std::string>{"a", "b", "c"})) << "b kept its place";
  EXPECT_EQ(pids["a"], old_a);
  EXPECT_EQ(pids["c"], old_c) << "a replace is not a crash: rest_for_one does not cascade";
  exit("b");
  EXPECT_EQ(take(), (steps{"stop c", "start b", "start c"})) << "c still comes after b";
}

TEST_F(ReplaceChild, StopsTheOldProcessWithTheOldShutdown) {
  auto a = worker("a");
  a.shutdown = shutdown_policy::brutal_kill();
  make(make_spec(strategy::one_for_one, {a}));
  start();
  auto next = worker("a");
  next.shutdown = shutdown_policy::after(9s);
  uut->handle(replace(next), term(atom("tag")), now);
  auto stop = uut->next();
  ASSERT_TRUE(stop && std::holds_alternative<stop_step>(*stop));
  ASSERT_EQ(std::get<stop_step>(*stop).targets.size(), 1U);
  EXPECT_EQ(std::get<stop_step>(*stop).targets[0].shutdown, shutdown_policy::brutal_kill());
  drive();
}

TEST_F(ReplaceChild, StartsAStoppedChildAndDropsAPendingRestart) {
  auto b = worker("b");
  b.backoff = backoff(1s, 1s);
  make(make_spec(strategy::one_for_one, {worker("a"), b}));
  start();
  call(change(request::kind::terminate_child, worker("a")));
  exit("b");
  EXPECT_EQ(state_of("b"), child_state::backoff);
  take();
  call(replace(with_args(worker("a"), 1)));
  call(replace(with_args(worker("b"), 1)));
  EXPECT_EQ(take(), (steps{"start a", "start b"}));
  EXPECT_EQ(state_of("a"), child_state::running);
  EXPECT_EQ(state_of("b"), child_state::running);
  advance(2s);
  EXPECT_TRUE(take().empty()) << "the old backoff deadline went stale";
}

TEST_F(ReplaceChild, AFailedStartLeavesTheChildStoppedWithItsNewSpec) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  take();
  failures["a"] = 1;
  call(replace(with_args(worker("a"), 3)));
  EXPECT_EQ(take(), (steps{"stop~ a", "start! a"}));
  EXPECT_EQ(replies.at(0), vigil::make_tuple(atoms::error, "no a"));
  EXPECT_EQ(state_of("a"), child_state::stopped);
  EXPECT_FALSE(uut->exiting()) << "a refused replacement is not a crash";
  uut->handle(change(request::kind::restart_child, worker("a")), term(atom("tag")), now);
  auto st = uut->next();
  ASSERT_TRUE(st && std::holds_alternative<start_step>(*st));
  EXPECT_EQ(std::get<start_step>(*st).spec->args, term::map({{atom("n"), 3}}));
}

TEST_F(ReplaceChild, RefusesUnknownIdsInvalidSpecsAndDynamicSupervisors) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  call(replace(worker("zz")));
  auto bad = worker("a");
  bad.significant = true; // a significant child must not be permanent
  call(replace(bad));
  EXPECT_EQ(replies.at(0), failure("not_found"));
  ASSERT_TRUE(replies.at(1).is_tuple());
  EXPECT_TRUE(replies.at(1)[1].is_string()) << "the validation error, as text";
  EXPECT_EQ(state_of("a"), child_state::running);

  make(make_spec(strategy::simple_one_for_one, {worker("conn")}));
  start();
  call(replace(worker("conn")));
  call(update(worker("conn")));
  EXPECT_EQ(replies.at(2), failure("simple_one_for_one"));
  EXPECT_EQ(replies.at(3), failure("simple_one_for_one"));
}

TEST_F(UpdateChild, AnUpdatedSpecIsToldWithTheChildsPathAndItsPidLeftAlone) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  (void)uut->take_events();
  pid before = pids["a"];
  auto spec = worker("a");
  spec.kind = "changed";
  call(update(spec));
  auto told = uut->take_events();
  ASSERT_EQ(told.size(), 1U);
  EXPECT_EQ(told[0].what, child_event::kind::updated);
  EXPECT_EQ(told[0].path, "root/a");
  EXPECT_EQ(told[0].process, before);
  ASSERT_NE(told[0].spec, nullptr);
  EXPECT_EQ(told[0].spec->kind, "changed");
}

TEST_F(UpdateChild, ChangesHowTheChildIsSupervisedWithoutAStep) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  take();
  call(update(worker("a", restart_type::temporary)));
  EXPECT_EQ(replies.at(0), term(atoms::ok));
  EXPECT_TRUE(take().empty()) << "the process is left alone";
  exit("a");
  EXPECT_TRUE(take().empty()) << "a is temporary now: not restarted";
  EXPECT_EQ(ids(), (std::vector<std::string>{"b"}));
}

TEST_F(UpdateChild, TheNextStartUsesTheNewSpec) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  call(update(with_args(worker("a"), 7)));
  uut->child_exited(pids["a"], atom("crash"), now);
  auto st = uut->next();
  ASSERT_TRUE(st && std::holds_alternative<start_step>(*st));
  EXPECT_EQ(std::get<start_step>(*st).spec->args, term::map({{atom("n"), 7}}));
}

TEST_F(UpdateChild, ARunningChildCannotChangeType) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  auto sup = worker("a");
  sup.type = child_type::supervisor;
  sup.supervisor = std::make_shared<const supervisor_spec>();
  call(update(sup));
  ASSERT_TRUE(replies.at(0).is_tuple());
  EXPECT_EQ(replies.at(0)[0], term(atoms::error));
}

TEST_F(UpdateFlags, ANewStrategyAppliesToTheNextCrash) {
  auto spec = make_spec(strategy::one_for_one, {worker("a"), worker("b"), worker("c")});
  make(spec);
  start();
  take();
  spec.how = strategy::rest_for_one;
  call(flags(spec));
  EXPECT_EQ(replies.at(0), term(atoms::ok));
  exit("b");
  EXPECT_EQ(take(), (steps{"stop c", "start b", "start c"}));
}

TEST_F(UpdateFlags, RestartsAlreadyCountedCountAgainstANewIntensity) {
  auto spec = make_spec(strategy::one_for_one, {worker("a")}, 3, 5s);
  make(spec);
  start();
  exit("a");
  exit("a");
  spec.intensity = 2;
  call(flags(spec));
  EXPECT_FALSE(uut->exiting());
  exit("a");
  EXPECT_TRUE(uut->exiting()) << "a third restart within the period is one too many";
  EXPECT_TRUE(uut->gave_up()) << "over its intensity: a supervisor report is due";
}

TEST_F(GiveUp, AStopAskedForIsNotGivingUp) {
  make(make_spec(strategy::one_for_one, {worker("a")}, 0));
  start();
  uut->shutdown(atoms::shutdown);
  drive();
  EXPECT_TRUE(uut->exiting());
  EXPECT_FALSE(uut->gave_up());
}

TEST_F(UpdateFlags, RefusesAChangeIntoOrOutOfSimpleOneForOne) {
  auto spec = make_spec(strategy::one_for_one, {worker("a")});
  make(spec);
  start();
  spec.how = strategy::simple_one_for_one;
  call(flags(spec));
  EXPECT_EQ(replies.at(0), failure("simple_one_for_one"));
  exit("a");
  EXPECT_EQ(state_of("a"), child_state::running) << "still one_for_one";
}

TEST_F(UpdateFlags, ANewTemplateServesTheNextDynamicChild) {
  auto spec = make_spec(strategy::simple_one_for_one, {worker("conn")});
  make(spec);
  start();
  call(request{request::kind::start_child, {}, {}, {}, term(), {}});
  auto next = with_args(worker("conn"), 9);
  spec.children = {next};
  spec.max_children = 1;
  call(flags(spec));
  EXPECT_EQ(replies.at(1), term(atoms::ok));
  call(request{request::kind::start_child, {}, {}, {}, term(), {}});
  EXPECT_EQ(replies.at(2), failure("max_children"));
  exit("conn"); // a dynamic permanent child restarts with the spec it started with
  EXPECT_EQ(uut->count_children().active, 1U);
  call(request{request::kind::terminate_child, {}, pids["conn"], {}, {}, {}});
  uut->handle(request{request::kind::start_child, {}, {}, {}, term(), {}}, term(atom("t")), now);
  auto st = uut->next();
  ASSERT_TRUE(st && std::holds_alternative<start_step>(*st));
  EXPECT_EQ(std::get<start_step>(*st).spec->args, term::map({{atom("n"), 9}}));
}

TEST_F(InsertChild, TakesItsPlaceBeforeTheNamedSibling) {
  make(make_spec(strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  take();
  call(insert(worker("x"), "c"));
  EXPECT_EQ(take(), (steps{"start x"})) << "nobody else moves";
  EXPECT_EQ(replies.at(0), vigil::make_tuple(atoms::ok, pids["x"]));
  EXPECT_EQ(ids(), (std::vector<std::string>{"a", "b", "x", "c"}));
  call(insert(worker("y"), "a"));
  EXPECT_EQ(ids(), (std::vector<std::string>{"y", "a", "b", "x", "c"}));
}

TEST_F(InsertChild, RestForOneRestartOfAnEarlierSiblingRestartsIt) {
  make(make_spec(strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  call(insert(worker("x"), "c"));
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"stop c,x", "start b", "start x", "start c"}));
  exit("x");
  EXPECT_EQ(take(), (steps{"stop c", "start x", "start c"})) << "a moved child still cascades";
  exit("c");
  EXPECT_EQ(take(), (steps{"start c"}));
}

TEST_F(InsertChild, OneForAllRestartsInTheNewOrder) {
  make(make_spec(strategy::one_for_all, {worker("a"), worker("b")}));
  start();
  call(insert(worker("x"), "b"));
  take();
  exit("a");
  EXPECT_EQ(take(), (steps{"stop b,x", "start a", "start x", "start b"}));
}

TEST_F(InsertChild, StopsInReverseOfTheNewOrder) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  call(insert(worker("x"), "b"));
  take();
  uut->shutdown(atoms::shutdown);
  drive();
  EXPECT_EQ(take(), (steps{"stop c,b,x,a"}));
}

TEST_F(InsertChild, AMovedChildKeepsItsPendingRestart) {
  auto c = worker("c");
  c.backoff = backoff(2s, 8s);
  make(make_spec(strategy::one_for_one, {worker("a"), c}));
  start();
  exit("c");
  ASSERT_EQ(state_of("c"), child_state::backoff);
  call(insert(worker("x"), "c"));
  take();
  EXPECT_EQ(uut->next_deadline(), now + 2s);
  EXPECT_EQ(state_of("c"), child_state::backoff);
  advance(2s);
  EXPECT_EQ(take(), (steps{"start c"}));
  EXPECT_EQ(state_of("c"), child_state::running);
  exit("c"); // its pid is known under its new key
  EXPECT_EQ(state_of("c"), child_state::backoff);
}

TEST_F(InsertChild, RefusesAnUnknownSiblingAndDynamicSupervisors) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  call(insert(worker("x"), "nope"));
  EXPECT_EQ(replies.at(0), failure("not_found"));
  EXPECT_EQ(ids(), (std::vector<std::string>{"a"}));
  make(make_spec(strategy::simple_one_for_one, {worker("t")}));
  start();
  call(insert(worker("x"), "t"));
  EXPECT_EQ(replies.at(1), failure("simple_one_for_one"));
}

TEST(ProtocolUpdate, AnInsertSurvivesARoundTrip) {
  auto back = protocol::decode(protocol::encode(insert(with_args(worker("x"), 1), "c")));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->what, request::kind::start_child);
  EXPECT_EQ(back->before, "c");
  EXPECT_EQ(back->spec, with_args(worker("x"), 1));
}

TEST(ProtocolUpdate, SpecChangesSurviveARoundTrip) {
  auto spec = make_spec(strategy::rest_for_one, {with_args(worker("a"), 1)});
  spec.intensity = 9;
  for (const auto& r : {replace(with_args(worker("a"), 2)), update(worker("a")), flags(spec)}) {
    auto back = protocol::decode(protocol::encode(r));
    ASSERT_TRUE(back) << static_cast<int>(r.what);
    EXPECT_EQ(back->what, r.what);
    EXPECT_EQ(back->id, r.id);
    EXPECT_EQ(back->spec, r.spec);
    EXPECT_EQ(back->flags, r.flags);
  }
}

} // namespace
} // namespace vigil::supervision::test
