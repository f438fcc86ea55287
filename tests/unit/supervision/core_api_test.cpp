// SPDX-License-Identifier: Apache-2.0
// supervisor_core's API: which_children, count_children, start_child, terminate_child,
// restart_child, delete_child, for static and dynamic supervisors.
#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using Api = core_test;
using Dynamic = core_test;

request ask(request::kind what, std::string id = {}) {
  request r;
  r.what = what;
  r.id = std::move(id);
  return r;
}

request start_spec(child_spec spec) {
  request r = ask(request::kind::start_child);
  r.spec = std::move(spec);
  return r;
}

request start_args(term args) {
  request r = ask(request::kind::start_child);
  r.args = std::move(args);
  return r;
}

term failure(const char* reason) {
  return vigil::make_tuple(atoms::error, atom(reason));
}

TEST_F(Api, WhichChildrenListsEveryChildInStartOrder) {
  auto nested = worker("inner");
  nested.type = child_type::supervisor;
  nested.supervisor = std::make_shared<const supervisor_spec>();
  make(make_spec(strategy::one_for_one, {worker("a"), nested}));
  start();
  call(ask(request::kind::which_children));
  ASSERT_EQ(replies.size(), 1U);
  auto rows = protocol::children_from_term(replies[0]);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ((*rows)[0], (child_info{"a", pids["a"], child_type::worker, child_state::running}));
  EXPECT_EQ((*rows)[1],
            (child_info{"inner", pids["inner"], child_type::supervisor, child_state::running}));
}

TEST_F(Api, CountChildrenCountsSpecsActiveAndTypes) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b", restart_type::transient)}));
  start();
  exit("b", atoms::normal);
  call(ask(request::kind::count_children));
  EXPECT_EQ(protocol::counts_from_term(replies.at(0)).value(), (child_counts{2, 1, 0, 2}));
}

TEST_F(Api, StartChildAppendsAndStartsTheChild) {
  make(make_spec(strategy::one_for_all, {worker("a")}));
  start();
  take();
  call(start_spec(worker("b")));
  EXPECT_EQ(take(), (steps{"start b"}));
  EXPECT_EQ(replies.at(0), vigil::make_tuple(atoms::ok, pids["b"]));
  exit("a");
  EXPECT_EQ(take(), (steps{"stop b", "start a", "start b"})) << "b is now part of the group";
}

TEST_F(Api, StartChildRefusesATakenId) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b", restart_type::transient)}));
  start();
  exit("b", atoms::normal);
  call(start_spec(worker("a")));
  EXPECT_EQ(replies.at(0),
            vigil::make_tuple(atoms::error, vigil::make_tuple(atom("already_started"), pids["a"])));
  call(start_spec(worker("b")));
  EXPECT_EQ(replies.at(1), failure("already_present"));
}

TEST_F(Api, AFailedStartChildLeavesNoSpecBehind) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  failures["b"] = 1;
  call(start_spec(worker("b")));
  EXPECT_EQ(replies.at(0), vigil::make_tuple(atoms::error, "no b"));
  EXPECT_EQ(ids(), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(uut->exiting());
}

TEST_F(Api, StartChildValidatesTheSpec) {
  make(make_spec(strategy::one_for_one, {}));
  start();
  auto bad = worker("s");
  bad.significant = true;
  call(start_spec(bad));
  ASSERT_TRUE(replies.at(0).is_tuple());
  EXPECT_EQ(replies.at(0)[0], term(atoms::error));
  EXPECT_TRUE(ids().empty());
}

TEST_F(Api, TerminateChildKeepsTheSpecAndRestartChildStartsItAgain) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  take();
  call(ask(request::kind::terminate_child, "a"));
  EXPECT_EQ(take(), (steps{"stop~ a"}));
  EXPECT_EQ(replies.at(0), term(atoms::ok));
  EXPECT_EQ(state_of("a"), child_state::stopped);
  call(ask(request::kind::restart_child, "a"));
  EXPECT_EQ(take(), (steps{"start a"}));
  EXPECT_EQ(replies.at(1), vigil::make_tuple(atoms::ok, pids["a"]));
}

TEST_F(Api, TerminateChildForgetsATemporaryChild) {
  make(make_spec(strategy::one_for_one, {worker("t", restart_type::temporary)}));
  start();
  call(ask(request::kind::terminate_child, "t"));
  EXPECT_TRUE(ids().empty());
}

TEST_F(Api, TerminatedChildrenAreNotRestartedOrCounted) {
  make(make_spec(strategy::one_for_one, {worker("a")}, 0));
  start();
  call(ask(request::kind::terminate_child, "a"));
  EXPECT_FALSE(uut->exiting()) << "a terminate is not an exit that restarts";
}

TEST_F(Api, RestartAndDeleteRefuseARunningChild) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  call(ask(request::kind::restart_child, "a"));
  call(ask(request::kind::delete_child, "a"));
  call(ask(request::kind::restart_child, "zz"));
  call(ask(request::kind::terminate_child, "zz"));
  EXPECT_EQ(replies, (std::vector<term>{failure("running"), failure("running"),
                                        failure("not_found"), failure("not_found")}));
}

TEST_F(Api, RestartAndDeleteRefuseAChildInBackoff) {
  auto c = worker("a");
  c.backoff = backoff(1s, 1s);
  make(make_spec(strategy::one_for_one, {c}));
  start();
  exit("a");
  call(ask(request::kind::restart_child, "a"));
  call(ask(request::kind::delete_child, "a"));
  EXPECT_EQ(replies, (std::vector<term>{failure("restarting"), failure("restarting")}));
}

TEST_F(Api, DeleteChildForgetsAStoppedChild) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  call(ask(request::kind::terminate_child, "a"));
  call(ask(request::kind::delete_child, "a"));
  EXPECT_EQ(replies.at(1), term(atoms::ok));
  EXPECT_EQ(ids(), (std::vector<std::string>{"b"}));
}

TEST_F(Api, AFailedRestartChildLeavesTheChildStopped) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  call(ask(request::kind::terminate_child, "a"));
  failures["a"] = 1;
  call(ask(request::kind::restart_child, "a"));
  EXPECT_EQ(replies.at(1), vigil::make_tuple(atoms::error, "no a"));
  EXPECT_EQ(state_of("a"), child_state::stopped);
  EXPECT_FALSE(uut->next_deadline().has_value());
}

TEST_F(Dynamic, StartChildMergesArgsIntoTheTemplate) {
  auto tmpl = worker("conn");
  tmpl.args = term::map({{atom("port"), 80}, {atom("host"), "a"}});
  make(make_spec(strategy::simple_one_for_one, {tmpl}));
  start();
  uut->handle(start_args(term::map({{atom("host"), "b"}})), term(atom("tag")), now);
  auto st = uut->next();
  ASSERT_TRUE(st && std::holds_alternative<start_step>(*st));
  EXPECT_EQ(std::get<start_step>(*st).spec->args,
            term::map({{atom("port"), 80}, {atom("host"), "b"}}));
  uut->start_result(pid{0, 7, 1}, now);
  drive();
  EXPECT_EQ(replies.at(0), vigil::make_tuple(atoms::ok, pid{0, 7, 1}));
}

TEST_F(Dynamic, MaxChildrenBoundsTheDynamicChildren) {
  auto spec = make_spec(strategy::simple_one_for_one, {worker("conn")});
  spec.max_children = 2;
  make(spec);
  start();
  for (int i = 0; i < 3; ++i) {
    call(start_args(term()));
  }
  EXPECT_EQ(replies.at(2), failure("max_children"));
  EXPECT_EQ(uut->count_children(), (child_counts{2, 2, 0, 2}));
}

TEST_F(Dynamic, TerminateChildTakesAPidAndForgetsTheChild) {
  make(make_spec(strategy::simple_one_for_one, {worker("conn")}));
  start();
  call(start_args(term()));
  pid first = pids["conn"];
  call(start_args(term()));
  take();
  request req = ask(request::kind::terminate_child);
  req.child = first;
  call(req);
  EXPECT_EQ(take(), (steps{"stop~ conn"}));
  EXPECT_EQ(replies.back(), term(atoms::ok));
  EXPECT_EQ(uut->count_children().specs, 1U);
}

TEST_F(Dynamic, RestartAndDeleteAreNotForDynamicSupervisors) {
  make(make_spec(strategy::simple_one_for_one, {worker("conn")}));
  start();
  call(ask(request::kind::restart_child, "conn"));
  call(ask(request::kind::delete_child, "conn"));
  EXPECT_EQ(replies,
            (std::vector<term>{failure("simple_one_for_one"), failure("simple_one_for_one")}));
}

TEST_F(Dynamic, WithoutATemplateStartChildNeedsAFullSpec) {
  make(make_spec(strategy::simple_one_for_one, {}));
  start();
  call(start_args(term()));
  call(start_spec(worker("job")));
  EXPECT_EQ(replies.at(0), failure("no_child_template"));
  EXPECT_EQ(replies.at(1), vigil::make_tuple(atoms::ok, pids["job"]));
}

} // namespace
} // namespace vigil::supervision::test
