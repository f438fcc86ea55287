// SPDX-License-Identifier: Apache-2.0
// The client API against a live supervisor, from a mailbox and from a process; dynamic
// children; backoff on the real clock (tiny delays).
#include "process_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using Client = supervisor_test;
using DynamicTree = supervisor_test;
using BackoffTree = supervisor_test;

TEST_F(Client, ManagesChildrenFromAMailbox) {
  pid sup = start_root(make_spec(strategy::one_for_one, {child("a")}));
  started("a");
  auto b = start_child(*box, sup, child("b"));
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(started("b"), *b);
  EXPECT_EQ(count_children(*box, sup).value(), (child_counts{2, 2, 0, 2}));

  ASSERT_TRUE(terminate_child(*box, sup, "b"));
  EXPECT_FALSE(rt.alive(*b)) << "terminate_child returns once the child is dead";
  EXPECT_EQ(children(sup).at(1).state, child_state::stopped);

  auto again = restart_child(*box, sup, "b");
  ASSERT_TRUE(again);
  EXPECT_EQ(started("b"), *again);
  EXPECT_NE(*again, *b);

  auto busy = delete_child(*box, sup, "b");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, make_error_code(errc::already_exists));
  EXPECT_EQ(busy.error().context, "delete_child b: running");
  ASSERT_TRUE(terminate_child(*box, sup, "b"));
  ASSERT_TRUE(delete_child(*box, sup, "b"));
  EXPECT_EQ(children(sup).size(), 1U);

  auto missing = restart_child(*box, sup, "zz");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, make_error_code(errc::not_found));
}

TEST_F(Client, ManagesChildrenFromAProcess) {
  pid sup = start_root(make_spec(strategy::one_for_one, {child("a")}));
  started("a");
  pid observer = me();
  rt.spawn([sup, observer](context& self) -> task<> {
    auto b = co_await start_child(self, sup, child("b"));
    auto rows = co_await which_children(self, sup);
    auto counts = co_await count_children(self, sup);
    auto stopped = co_await terminate_child(self, sup, std::string("a"));
    self.send(observer, vigil::make_tuple(atom("report"), b ? term(*b) : term(atoms::error),
                                          rows ? static_cast<std::int64_t>(rows->size()) : -1,
                                          counts ? static_cast<std::int64_t>(counts->active) : -1,
                                          stopped ? atoms::ok : atoms::error));
  });
  pid b = started("b");
  auto report = next("{:report, b, rows, active, stopped}");
  EXPECT_EQ(report[0], term(b));
  EXPECT_EQ(report[1], term(2));
  EXPECT_EQ(report[2], term(2));
  EXPECT_EQ(report[3], term(atoms::ok));
}

TEST_F(Client, AChildThatIgnoresItsStopDoesNotHoldUpItsSiblingsRestart) {
  auto slow = child("slow", "stubborn");
  slow.shutdown = shutdown_policy::infinity();
  pid sup = start_root(make_spec(strategy::one_for_one, {slow, child("b")}, 10));
  pid s = started("slow");
  pid b = started("b");
  pid observer = me();
  rt.spawn([sup, observer](context& self) -> task<> {
    auto stopped = co_await terminate_child(self, sup, std::string("slow"), infinity);
    self.send(observer, vigil::make_tuple(atom("stopped"), stopped ? atoms::ok : atoms::error));
  });
  // Each which_children is a round trip: the supervisor answers while the stop is pending.
  for (int calls = 0; children(sup).at(0).state != child_state::stopping; ++calls) {
    ASSERT_LT(calls, 100000) << "slow never shows stopping";
  }
  EXPECT_EQ(children(sup).at(0).process, s);
  rt.exit(b, atom("crash"));
  pid again = started("b");
  EXPECT_NE(again, b) << "the crashed sibling is restarted while slow is stopping";
  EXPECT_TRUE(rt.alive(s));
  EXPECT_EQ(count_children(*box, sup).value().active, 2U);
  rt.exit(s, atoms::kill);
  EXPECT_EQ(next("{:stopped, r}")[0], term(atoms::ok)) << "the stop's reply, once slow died";
  EXPECT_EQ(children(sup).at(0).state, child_state::stopped);
}

TEST_F(Client, ACallToADeadSupervisorFailsWithNotFound) {
  pid sup = start_root(make_spec(strategy::one_for_one, {}));
  ASSERT_TRUE(stop_supervisor(*box, sup));
  auto rows = which_children(*box, sup);
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, make_error_code(errc::not_found));
  auto again = stop_supervisor(*box, sup);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, make_error_code(errc::not_found));
}

TEST_F(Client, ACallThatGetsNoReplyTimesOut) {
  pid silent = rt.spawn([](context& self) -> task<> {
    const auto never = pattern::tuple({atom("never")});
    co_await self.receive(never);
  });
  auto rows = which_children(*box, silent, 20ms);
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, std::make_error_code(std::errc::timed_out));
  EXPECT_TRUE(quiet(20ms)) << "the late reply never reaches the mailbox";
  rt.exit(silent, atoms::kill);
}

TEST_F(Client, ReplaceChildRunsTheNewSpecAtTheChildsPlace) {
  pid sup = start_root(make_spec(strategy::rest_for_one, {child("a"), child("b"), child("c")}));
  pid a = started("a");
  pid b = started("b");
  pid c = started("c");
  auto b2 = replace_child(*box, sup, child("b", "trapper"));
  ASSERT_TRUE(b2) << b2.error().message();
  EXPECT_EQ(started("b"), *b2);
  EXPECT_FALSE(rt.alive(b)) << "the old process stopped before the new one started";
  auto rows = children(sup);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[1].id, "b") << "in place, not appended";
  EXPECT_EQ(rows[0].process, a);
  EXPECT_EQ(rows[2].process, c) << "a replacement is not a crash: no rest_for_one cascade";
  ASSERT_TRUE(terminate_child(*box, sup, "b"));
  EXPECT_TRUE(next("{:stopping, \"b\"}")) << "b runs the new spec (a trapper now)";
}

TEST_F(Client, UpdatesChangeSpecsAndFlagsWithoutRestarts) {
  auto spec = make_spec(strategy::one_for_one, {child("a"), child("b")});
  pid sup = start_root(spec);
  pid a = started("a");
  pid b = started("b");
  ASSERT_TRUE(update_child(*box, sup, child("a", "worker", restart_type::temporary)));
  spec.how = strategy::one_for_all;
  ASSERT_TRUE(update_flags(*box, sup, spec));
  EXPECT_TRUE(quiet(20ms)) << "nothing restarted";
  kill_and_wait(b);
  EXPECT_NE(started("b"), b) << "one_for_all now";
  EXPECT_FALSE(rt.alive(a)) << "stopped with its sibling";
  EXPECT_EQ(children(sup).size(), 1U) << "a is temporary now: not restarted, forgotten";
  auto wrong = update_child(*box, sup, child("zz"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, make_error_code(errc::not_found));
}

TEST_F(DynamicTree, StartsRestartsAndBoundsDynamicChildren) {
  auto tmpl = child("conn");
  auto spec = make_spec(strategy::simple_one_for_one, {tmpl});
  spec.max_children = 2;
  pid sup = start_root(spec);
  auto c1 = start_dynamic_child(*box, sup, term::map({}));
  auto c2 = start_dynamic_child(*box, sup, term::map({}));
  ASSERT_TRUE(c1 && c2);
  started("conn");
  started("conn");
  auto c3 = start_dynamic_child(*box, sup, term::map({}));
  ASSERT_FALSE(c3);
  EXPECT_EQ(c3.error().code, make_error_code(errc::limit_exceeded));

  rt.exit(*c1, atoms::kill);
  pid c1b = started("conn");
  EXPECT_NE(c1b, *c1);
  ASSERT_TRUE(terminate_child(*box, sup, *c2));
  EXPECT_EQ(count_children(*box, sup).value(), (child_counts{1, 1, 0, 1}));
}

TEST_F(BackoffTree, AChildInBackoffShowsTheTimeLeftThenComesBack) {
  auto c = child("a");
  c.backoff = backoff(30ms, 1s);
  pid sup = start_root(make_spec(strategy::one_for_one, {c}));
  pid a = started("a");
  kill_and_wait(a);
  auto rows = children(sup);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].state, child_state::backoff);
  EXPECT_GT(rows[0].backoff_left, 0ms);
  EXPECT_LE(rows[0].backoff_left, 30ms);
  pid a2 = started("a");
  EXPECT_NE(a2, a);
}

// Backoff never keeps the supervisor from serving a stop request.
TEST_F(BackoffTree, AStopRequestIsServedDuringAnHourLongBackoff) {
  auto c = child("slow");
  c.backoff = backoff(1h, 1h);
  pid sup = start_root(make_spec(strategy::one_for_one, {c, child("b")}));
  pid slow = started("slow");
  pid b = started("b");
  rt.exit(slow, atoms::kill);
  rt.exit(b, atoms::kill);
  started("b"); // the other child is served meanwhile
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(stop_supervisor(*box, sup));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

} // namespace
} // namespace vigil::supervision::test
