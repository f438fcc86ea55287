// SPDX-License-Identifier: Apache-2.0
// supervisor_core, semantics 22-23: start order, each strategy when it restarts and when it
// escalates, the sliding intensity window, shutdown order.
#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using Start = core_test;
using OneForOne = core_test;
using OneForAll = core_test;
using RestForOne = core_test;
using Intensity = core_test;
using Shutdown = core_test;

// semantics 23: children start in list order
TEST_F(Start, StartsChildrenInListOrder) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  EXPECT_EQ(take(), (steps{"start a", "start b", "start c"}));
  EXPECT_FALSE(uut->exiting());
  EXPECT_EQ(uut->count_children(), (child_counts{3, 3, 0, 3}));
}

// semantics 23: a failed start stops the started ones in reverse and names the child
TEST_F(Start, AFailedStartStopsTheStartedInReverseAndNamesTheChild) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b"), worker("c"), worker("d")}));
  failures["c"] = 1;
  start();
  EXPECT_EQ(take(), (steps{"start a", "start b", "start! c", "stop b,a"}));
  ASSERT_TRUE(uut->exiting());
  ASSERT_TRUE(uut->start_error().has_value());
  EXPECT_EQ(uut->start_error()->context, "failed to start child 'c': no c");
  EXPECT_EQ(uut->exit_reason(),
            vigil::make_tuple(atoms::shutdown,
                              vigil::make_tuple(atom("failed_to_start_child"), "c", "no c")));
}

TEST_F(Start, ADynamicSupervisorStartsWithNoChildren) {
  make(make_spec(strategy::simple_one_for_one, {worker("conn")}));
  start();
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(uut->count_children(), (child_counts{0, 0, 0, 0}));
}

TEST_F(OneForOne, RestartsOnlyTheChildThatExited) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  take();
  pid old = pids["b"];
  exit("b");
  EXPECT_EQ(take(), (steps{"start b"}));
  EXPECT_NE(pids["b"], old) << "a restarted child gets a new pid";
}

TEST_F(OneForOne, EscalatesWhenOverTheIntensity) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b"), worker("c")}, 1));
  start();
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"start b"}));
  exit("b");
  EXPECT_EQ(take(), (steps{"stop c,a"})) << "the crashed child is already dead";
  EXPECT_TRUE(uut->exiting());
  EXPECT_EQ(uut->exit_reason(), term(atoms::shutdown));
}

// semantics 22: one_for_all stops the siblings in reverse, then starts all in order
TEST_F(OneForAll, RestartsEveryChildWhenOneExits) {
  make(make_spec(strategy::one_for_all, {worker("a"), worker("b"), worker("c")}));
  start();
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"stop c,a", "start a", "start b", "start c"}));
}

TEST_F(OneForAll, EscalatesWhenOverTheIntensity) {
  make(make_spec(strategy::one_for_all, {worker("a"), worker("b"), worker("c")}, 1));
  start();
  take();
  exit("a");
  take();
  exit("c");
  EXPECT_EQ(take(), (steps{"stop b,a"}));
  EXPECT_TRUE(uut->exiting());
  EXPECT_EQ(uut->exit_reason(), term(atoms::shutdown));
}

// semantics 21: temporary children are not restarted, not even by a sibling's exit
TEST_F(OneForAll, StopsButDoesNotRestartATemporarySibling) {
  make(make_spec(strategy::one_for_all,
                 {worker("a"), worker("t", restart_type::temporary), worker("c")}));
  start();
  take();
  exit("a");
  EXPECT_EQ(take(), (steps{"stop c,t", "start a", "start c"}));
  EXPECT_EQ(ids(), (std::vector<std::string>{"a", "c"}));
}

// OTP restarts every non-temporary child of the group, one that was stopped included.
TEST_F(OneForAll, AlsoStartsATransientSiblingThatHadEnded) {
  make(make_spec(strategy::one_for_all, {worker("a"), worker("b", restart_type::transient)}));
  start();
  exit("b", atoms::normal);
  take();
  EXPECT_EQ(state_of("b"), child_state::stopped);
  exit("a");
  EXPECT_EQ(take(), (steps{"start a", "start b"}));
}

// semantics 22: rest_for_one restarts the child and those started after it
TEST_F(RestForOne, RestartsTheChildAndThoseAfterIt) {
  make(make_spec(strategy::rest_for_one, {worker("a"), worker("b"), worker("c"), worker("d")}));
  start();
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"stop d,c", "start b", "start c", "start d"}));
}

TEST_F(RestForOne, TheLastChildRestartsAlone) {
  make(make_spec(strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  take();
  exit("c");
  EXPECT_EQ(take(), (steps{"start c"}));
}

TEST_F(RestForOne, EscalatesWhenOverTheIntensity) {
  make(make_spec(strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}, 1));
  start();
  take();
  exit("c");
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"stop c,a"}));
  EXPECT_TRUE(uut->exiting());
}

// semantics 23: more than `intensity` restarts within `period` escalates
TEST_F(Intensity, OneRestartMoreThanTheIntensityEscalates) {
  make(make_spec(strategy::one_for_one, {worker("a")}, 3, 5s));
  start();
  for (int i = 0; i < 3; ++i) {
    exit("a");
    now += 1s;
  }
  EXPECT_FALSE(uut->exiting());
  exit("a");
  EXPECT_TRUE(uut->exiting());
}

TEST_F(Intensity, TheWindowSlidesSoOldRestartsStopCounting) {
  make(make_spec(strategy::one_for_one, {worker("a")}, 2, 10s));
  start();
  exit("a"); // t = 0
  now += 4s;
  exit("a"); // t = 4
  now += 7s;
  exit("a"); // t = 11: the one at 0 has left the window
  EXPECT_FALSE(uut->exiting());
  now += 1s;
  exit("a"); // t = 12: 4, 11, 12 are three within 10 s
  EXPECT_TRUE(uut->exiting());
}

TEST_F(Intensity, ZeroIntensityEscalatesOnTheFirstExit) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}, 0));
  start();
  take();
  exit("b");
  EXPECT_EQ(take(), (steps{"stop a"}));
  EXPECT_TRUE(uut->exiting());
}

// Exits that do not restart (transient :normal) do not count.
TEST_F(Intensity, ExitsThatDoNotRestartDoNotCount) {
  make(make_spec(strategy::one_for_one, {worker("a", restart_type::transient), worker("b")}, 1));
  start();
  exit("a", atoms::normal);
  exit("b");
  EXPECT_FALSE(uut->exiting());
}

// semantics 23: stop in reverse order, then exit with the reason
TEST_F(Shutdown, StopsChildrenInReverseOrderAndExitsWithTheReason) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b"), worker("c")}));
  start();
  take();
  uut->shutdown(atom("bye"));
  drive();
  EXPECT_EQ(take(), (steps{"stop c,b,a"}));
  EXPECT_TRUE(uut->exiting());
  EXPECT_EQ(uut->exit_reason(), term(atom("bye")));
  EXPECT_EQ(uut->count_children().active, 0U);
}

TEST_F(Shutdown, SkipsChildrenThatAreNotRunning) {
  make(make_spec(strategy::one_for_one,
                 {worker("a"), worker("b", restart_type::transient), worker("c")}));
  start();
  exit("b", atoms::normal);
  take();
  uut->shutdown(atoms::shutdown);
  drive();
  EXPECT_EQ(take(), (steps{"stop c,a"}));
}

TEST_F(Shutdown, StopsDynamicChildrenAllAtOnce) {
  make(make_spec(strategy::simple_one_for_one, {worker("conn")}));
  start();
  request req;
  req.what = request::kind::start_child;
  req.args = term::map({});
  call(req);
  call(req);
  take();
  uut->shutdown(atoms::shutdown);
  drive();
  EXPECT_EQ(take(), (steps{"stop* conn,conn"}));
}

TEST_F(Shutdown, AStaleOrForeignExitIsIgnored) {
  make(make_spec(strategy::one_for_one, {worker("a")}));
  start();
  pid old = pids["a"];
  exit("a");
  EXPECT_FALSE(uut->child_exited(old, atom("crash"), now));
  EXPECT_FALSE(uut->child_exited(pid{0, 9999, 1}, atom("crash"), now));
}

} // namespace
} // namespace vigil::supervision::test
