// SPDX-License-Identifier: Apache-2.0
// The supervisor process on the real runtime: start order, restarts with new pids, names
// that follow, shutdown order and timeouts, escalation through a tree (semantics 21-23).
#include "process_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using Tree = supervisor_test;
using Stopping = supervisor_test;
using Escalation = supervisor_test;

TEST_F(Tree, StartsChildrenInOrderAndListsThem) {
  pid sup = start_root(make_spec(strategy::one_for_one, {child("a"), child("b"), child("c")}));
  pid a = started("a");
  pid b = started("b");
  pid c = started("c");
  auto rows = children(sup);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0], (child_info{"a", a, child_type::worker, child_state::running}));
  EXPECT_EQ(rows[1].process, b);
  EXPECT_EQ(rows[2].process, c);
  auto info = rt.info(sup);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->trap_exit);
  EXPECT_EQ(info->links.size(), 3U);
}

// semantics 23: a restarted child has a new pid (the blog's killed-iex case)
TEST_F(Tree, AKilledChildComesBackWithANewPid) {
  pid sup = start_root(make_spec(strategy::one_for_one, {child("a"), child("b")}));
  pid a = started("a");
  pid b = started("b");
  rt.exit(b, atoms::kill);
  pid b2 = started("b");
  EXPECT_NE(b2, b);
  EXPECT_TRUE(rt.alive(b2));
  EXPECT_TRUE(rt.alive(a)) << "one_for_one leaves the sibling alone";
  auto rows = children(sup);
  EXPECT_EQ(rows.at(1).process, b2);
}

TEST_F(Tree, ARegisteredNameFollowsTheRestartedChild) {
  auto web = child("web");
  web.args = term::map({{atom("name"), atom("sup_test_web")}});
  start_root(make_spec(strategy::one_for_one, {web}));
  pid first = started("web");
  EXPECT_EQ(rt.whereis(atom("sup_test_web")), first);
  box->ctx().send(first, vigil::make_tuple(atom("crash"), atom("oops")));
  pid second = started("web");
  EXPECT_NE(second, first);
  EXPECT_EQ(rt.whereis(atom("sup_test_web")), second);
}

TEST_F(Tree, OneForAllRestartsEverySibling) {
  start_root(make_spec(strategy::one_for_all, {child("a"), child("b"), child("c")}));
  pid a = started("a");
  started("b");
  pid c = started("c");
  box->ctx().send(a, vigil::make_tuple(atom("crash"), atom("oops")));
  pid a2 = started("a");
  started("b");
  pid c2 = started("c");
  EXPECT_NE(a2, a);
  EXPECT_NE(c2, c);
  EXPECT_FALSE(rt.alive(c));
}

TEST_F(Tree, AFailedStartNamesTheChildAndStopsTheOthers) {
  pid observer = me();
  auto factory = [base = test_factory(observer), observer](context& sup, const child_spec& spec) {
    auto p = base(sup, spec);
    if (p) {
      sup.send(observer, vigil::make_tuple(atom("spawned"), spec.id, *p));
    }
    return p;
  };
  auto sup = start_supervisor(
      *box, make_spec(strategy::one_for_one, {child("a"), child("b", "broken"), child("c")}),
      factory, {.link = false});
  ASSERT_FALSE(sup);
  EXPECT_EQ(sup.error().context, "failed to start child 'b': broken on purpose");
  pid a = next("{:spawned, \"a\", p}")[0].as_pid();
  EXPECT_FALSE(rt.alive(a)) << "a was stopped before the error came";
}

TEST_F(Tree, ANestedFailureNamesThePath) {
  auto inner = make_spec(strategy::one_for_one, {child("w", "broken")});
  auto sup = start_supervisor(*box, make_spec(strategy::one_for_one, {nested("inner", inner)}),
                              test_factory(me()), {.link = false});
  ASSERT_FALSE(sup);
  EXPECT_EQ(sup.error().context,
            "failed to start child 'inner': failed to start child 'w': broken on purpose");
  EXPECT_TRUE(box->ctx().flush().empty()) << "no stray messages for the caller";
}

TEST_F(Tree, AnInvalidSpecStartsNothing) {
  auto sup = start_supervisor(*box, make_spec(strategy::one_for_one, {child("a"), child("a")}),
                              test_factory(me()));
  ASSERT_FALSE(sup);
  EXPECT_EQ(sup.error().code, make_error_code(errc::config_invalid));
  EXPECT_TRUE(quiet(20ms));
}

TEST_F(Tree, AFactoryThatReturnsNoPidFailsTheStart) {
  child_factory factory = [](context&, const child_spec&) -> result<pid> { return pid{}; };
  auto sup = start_supervisor(*box, make_spec(strategy::one_for_one, {child("a")}), factory,
                              {.link = false});
  ASSERT_FALSE(sup);
  EXPECT_EQ(sup.error().context, "failed to start child 'a': the factory returned no pid");
}

TEST_F(Tree, ATakenNameFailsTheStart) {
  pid first = start_root(make_spec(strategy::one_for_one, {}));
  ASSERT_TRUE(rt.register_name(atom("sup_test_taken"), first));
  auto sup = start_supervisor(*box, make_spec(strategy::one_for_one, {}), test_factory(me()),
                              {.link = false, .name = atom("sup_test_taken")});
  ASSERT_FALSE(sup);
  EXPECT_EQ(sup.error().code, make_error_code(errc::already_exists));
}

// semantics 23: stop in reverse start order
TEST_F(Stopping, ChildrenStopInReverseOrder) {
  pid sup =
      start_root(make_spec(strategy::one_for_one,
                           {child("a", "trapper"), child("b", "trapper"), child("c", "trapper")}));
  started("a");
  started("b");
  started("c");
  ASSERT_TRUE(stop_supervisor(*box, sup, atoms::shutdown));
  EXPECT_EQ(next(), vigil::make_tuple(atom("stopping"), "c"));
  EXPECT_EQ(next(), vigil::make_tuple(atom("stopping"), "b"));
  EXPECT_EQ(next(), vigil::make_tuple(atom("stopping"), "a"));
  EXPECT_FALSE(rt.alive(sup));
}

TEST_F(Stopping, AChildThatIgnoresShutdownIsKilledAfterItsTimeout) {
  auto c = child("s", "stubborn");
  c.shutdown = shutdown_policy::after(20ms);
  pid sup = start_root(make_spec(strategy::one_for_one, {c}));
  pid s = started("s");
  reference ref = box->ctx().monitor(s);
  ASSERT_TRUE(stop_supervisor(*box, sup));
  auto down = next("{:DOWN, _, :process, _, reason}");
  EXPECT_EQ(down[0], term(atoms::killed));
  (void)ref;
}

// OTP's naughty child: one that unlinked itself is still stopped, through the monitor.
TEST_F(Stopping, AChildThatUnlinkedItselfDoesNotHangTheSupervisor) {
  auto c = child("n", "naughty");
  c.shutdown = shutdown_policy::after(20ms);
  pid sup = start_root(make_spec(strategy::one_for_one, {c}));
  pid n = started("n");
  ASSERT_TRUE(stop_supervisor(*box, sup));
  EXPECT_FALSE(rt.alive(n));
}

TEST_F(Stopping, BrutalKillDoesNotAskFirst) {
  auto c = child("t", "trapper");
  c.shutdown = shutdown_policy::brutal_kill();
  pid sup = start_root(make_spec(strategy::one_for_one, {c}));
  pid t = started("t");
  reference ref = box->ctx().monitor(t);
  ASSERT_TRUE(stop_supervisor(*box, sup));
  EXPECT_EQ(next(), term::tuple({atoms::down, ref, atoms::process, t, atoms::killed}))
      << "no {:stopping, t}: the child never saw a shutdown request";
}

TEST_F(Stopping, TheParentsExitStopsTheTreeWithItsReason) {
  pid observer = me();
  auto spec = make_spec(strategy::one_for_one, {child("a", "trapper")});
  pid parent = rt.spawn([observer, spec](context& self) -> task<> {
    auto sup = co_await start_supervisor(self, spec, test_factory(observer));
    self.send(observer, vigil::make_tuple(atom("sup"), sup ? term(*sup) : term(atoms::error)));
    const auto never = pattern::tuple({atom("never")});
    co_await self.receive(never);
  });
  started("a");
  pid sup = next("{:sup, s}")[0].as_pid();
  reference ref = box->ctx().monitor(sup);
  rt.exit(parent, atom("bye"));
  EXPECT_EQ(next(), vigil::make_tuple(atom("stopping"), "a"));
  EXPECT_EQ(next(), term::tuple({atoms::down, ref, atoms::process, sup, atom("bye")}));
}

// A nested supervisor over its budget exits :shutdown; its parent restarts it.
TEST_F(Escalation, TheParentRestartsAnEscalatingSupervisor) {
  auto inner = make_spec(strategy::one_for_one, {child("w")}, 0);
  pid root = start_root(make_spec(strategy::one_for_one, {nested("inner", inner)}, 5));
  pid w = started("w");
  pid inner1 = children(root).at(0).process.value();
  reference ref = box->ctx().monitor(inner1);
  rt.exit(w, atoms::kill);
  // The root may restart the inner supervisor before our DOWN arrives: match the DOWN.
  auto down = box->receive(pattern::tuple({atoms::down, term(ref), atoms::process, term(inner1),
                                           pattern::bind("reason")}),
                           guard);
  ASSERT_TRUE(down);
  EXPECT_EQ(down[0], term(atoms::shutdown));
  pid w2 = started("w");
  EXPECT_NE(w2, w);
  pid inner2 = children(root).at(0).process.value();
  EXPECT_NE(inner2, inner1);
  EXPECT_TRUE(rt.alive(root));
}

// A nested supervisor that gives up reports to the process registered for reports, as
// OTP's supervisor report reaches the logger; the root, which goes on, reports nothing.
TEST_F(Escalation, ASupervisorThatGivesUpReportsItNestedOrNot) {
  ASSERT_TRUE(rt.register_name(report_name(), me()));
  auto inner = make_spec(strategy::one_for_one, {child("w")}, 0);
  pid root = start_root(make_spec(strategy::one_for_one, {nested("inner", inner)}, 5));
  pid w = started("w");
  pid inner1 = children(root).at(0).process.value();
  rt.exit(w, atoms::kill);
  auto report = next("{:supervisor_report, sup, reason}");
  ASSERT_TRUE(report);
  EXPECT_EQ(report[0], term(inner1));
  EXPECT_EQ(report[1], term(atoms::shutdown));
  started("w");
  ASSERT_TRUE(stop_supervisor(*box, root));
  EXPECT_TRUE(quiet(20ms)) << "a supervisor asked to stop does not report";
}

// Restart budgets multiply down the tree; a child that always crashes exhausts them all
// and the root gives up with :shutdown.
TEST_F(Escalation, ACrashLoopEscalatesUpToTheRoot) {
  auto leaf = make_spec(strategy::one_for_one, {child("w", "crasher")}, 1);
  auto mid = make_spec(strategy::one_for_one, {nested("leaf", leaf)}, 1);
  pid root = start_under_parent(
      make_spec(strategy::one_for_all, {child("bystander"), nested("mid", mid)}, 1));
  EXPECT_EQ(next("{:EXIT, r, reason}")[1], term(atoms::shutdown));
  EXPECT_FALSE(rt.alive(root));
}

} // namespace
} // namespace vigil::supervision::test
