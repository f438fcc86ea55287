// SPDX-License-Identifier: Apache-2.0
// Semantics 12-16: links, exit signals, trap_exit, exit/1 and exit/2.
#include "runtime_fixture.hpp"

namespace vigil::test {
namespace {

using Links = runtime_test;

task<> wait_forever(context& self) {
  const auto never = pattern::tuple({atom("never")});
  co_await self.receive(never);
}

task<> trapper(context& self, pid report) {
  self.trap_exit(true);
  self.send(report, make_tuple(atom("ready"), self.self()));
  for (;;) {
    auto m = co_await self.receive();
    self.send(report, m.message);
  }
}

task<> link_then_wait(context& self, pid other, pid report) {
  auto r = self.link(other);
  self.send(report, r ? atoms::ok : atoms::noproc);
  const auto never = pattern::tuple({atom("never")});
  co_await self.receive(never);
}

pid start_trapper(runtime_test& t, runtime& rt) {
  rt.spawn(trapper, t.box->self());
  return t.next("{:ready, p}")[0].as_pid();
}

// semantics 12: link is idempotent; at most one link per pair
TEST_F(Links, LinkingTwiceMakesOneLink) {
  pid a = rt.spawn(wait_forever);
  ASSERT_TRUE(box->ctx().link(a));
  ASSERT_TRUE(box->ctx().link(a));
  auto info = rt.info(a);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->links.size(), 1U);
  box->ctx().unlink(a);
  rt.exit(a, atoms::kill);
}

// semantics 12: link to a missing process fails with noproc; a trapping caller gets EXIT
TEST_F(Links, LinkToADeadProcessFailsOrSendsNoprocToATrapper) {
  pid dead = rt.spawn(wait_forever);
  rt.exit(dead, atoms::kill);
  await_death(dead);
  auto r = box->ctx().link(dead);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().context, "noproc");
  box->ctx().trap_exit(true);
  ASSERT_TRUE(box->ctx().link(dead));
  EXPECT_EQ(next(), make_tuple(atoms::exit, dead, atoms::noproc));
}

// semantics 13: the name is released before the EXIT goes out
TEST_F(Links, NameIsGoneWhenTheTrappingPartnerSeesTheExit) {
  pid partner = start_trapper(*this, rt);
  pid named = rt.spawn(link_then_wait, partner, me());
  EXPECT_EQ(next(), term(atoms::ok));
  ASSERT_TRUE(rt.register_name(atom("short_lived"), named));
  rt.exit(named, atom("crash"));
  EXPECT_EQ(next(), make_tuple(atoms::exit, named, atom("crash")));
  EXPECT_FALSE(rt.whereis(atom("short_lived")).has_value());
  rt.exit(partner, atoms::kill);
}

// semantics 14: a linked process does not die when its partner exits normally
TEST_F(Links, NormalExitDoesNotKillANonTrappingPartner) {
  pid partner = rt.spawn(wait_forever);
  pid quitter = rt.spawn([partner](context& self) -> task<> {
    (void)self.link(partner);
    co_return; // exits :normal
  });
  await_death(quitter);
  EXPECT_TRUE(rt.alive(partner));
  rt.exit(partner, atoms::kill);
}

// semantics 14: abnormal reasons cascade through links
TEST_F(Links, AbnormalExitCascadesToNonTrappingPartners) {
  pid a = rt.spawn(wait_forever);
  pid b = rt.spawn(link_then_wait, a, me());
  EXPECT_EQ(next(), term(atoms::ok));
  reference ref = box->ctx().monitor(b);
  rt.exit(a, atom("crash"));
  auto down = next("{:DOWN, _, :process, _, reason}");
  EXPECT_EQ(down[0], term(atom("crash")));
  (void)ref;
  EXPECT_FALSE(rt.alive(a));
}

// semantics 14: exit(pid, :kill) cannot be trapped and becomes :killed for the partners
TEST_F(Links, KillCannotBeTrappedAndPartnersSeeKilled) {
  pid victim = start_trapper(*this, rt);
  pid watcher = start_trapper(*this, rt);
  pid test = me();
  rt.spawn([victim, watcher, test](context& self) -> task<> {
    (void)self.link(victim);
    (void)self.link(watcher);
    self.send(test, atom("linked"));
    const auto never = pattern::tuple({atom("never")});
    co_await self.receive(never);
  });
  // Both links stand before `victim` dies: a link made after it would see :noproc instead.
  (void)next(":linked");
  // Kill the middle process indirectly: first kill `victim`, whose link partner (the
  // spawned process) dies with :killed, which `watcher` then traps.
  rt.exit(victim, atoms::kill);
  auto exit_msg = next("{:EXIT, _, reason}");
  EXPECT_EQ(exit_msg[0], term(atoms::killed)) << "partners of a killed process see :killed";
  EXPECT_FALSE(rt.alive(victim));
  rt.exit(watcher, atoms::kill);
}

// semantics 14: a trapping receiver gets {:EXIT, from, reason} for exit/2 signals
TEST_F(Links, TrappingTurnsExitSignalsIntoMessages) {
  pid t = start_trapper(*this, rt);
  box->ctx().exit(t, atom("please_stop"));
  EXPECT_EQ(next(), make_tuple(atoms::exit, me(), atom("please_stop")));
  box->ctx().exit(t, atoms::normal);
  EXPECT_EQ(next(), make_tuple(atoms::exit, me(), atoms::normal));
  EXPECT_TRUE(rt.alive(t));
  rt.exit(t, atoms::kill);
  await_death(t);
}

// semantics 14: exit(pid, :normal) from another process is dropped by a non-trapper;
// exit(self(), :normal) ends the caller
TEST_F(Links, NormalExitSignalOnlyEndsTheSenderItself) {
  pid p = rt.spawn(wait_forever);
  box->ctx().exit(p, atoms::normal);
  EXPECT_TRUE(quiet());
  EXPECT_TRUE(rt.alive(p));
  pid self_ender = rt.spawn([](context& self) -> task<> {
    self.exit(self.self(), atoms::normal);
    const auto never = pattern::tuple({atom("never")});
    co_await self.receive(never);
  });
  await_death(self_ender);
  rt.exit(p, atoms::kill);
}

// semantics 14: a link-flagged exit whose link was removed meanwhile is dropped
TEST_F(Links, UnlinkStopsTheExitSignal) {
  pid a = rt.spawn(wait_forever);
  ASSERT_TRUE(box->ctx().link(a));
  box->ctx().unlink(a);
  rt.exit(a, atom("crash"));
  await_death(a);
  EXPECT_TRUE(box->alive());
}

// semantics 15: trap_exit returns the old value
TEST_F(Links, TrapExitReturnsTheOldValue) {
  EXPECT_FALSE(box->ctx().trap_exit(true));
  EXPECT_TRUE(box->ctx().trap_exit(false));
}

// semantics 16: exit/1 ends the caller with the reason; exit/2 signals a target
TEST_F(Links, ExitOneEndsTheCallerAndExitTwoSignalsTheTarget) {
  pid t = start_trapper(*this, rt);
  pid p = rt.spawn([t](context& self) -> task<> {
    (void)self.link(t);
    co_await self.exit(atom("my_reason"));
  });
  EXPECT_EQ(next(), make_tuple(atoms::exit, p, atom("my_reason")));
  rt.exit(t, atoms::kill);
}

} // namespace
} // namespace vigil::test

namespace vigil::test {
namespace {

// semantics 7 (as Vigil implements it, docs/runtime.md): exit signals act without a
// matching receive; a suspended process dies at once, even mid-sleep.
TEST_F(Links, ASleepingProcessIsKilledAtOnce) {
  pid sleeper =
      rt.spawn([](context& self) -> task<> { co_await self.sleep(std::chrono::hours(1)); });
  reference ref = box->ctx().monitor(sleeper);
  box->ctx().exit(sleeper, atoms::kill);
  EXPECT_EQ(next(), term::tuple({atoms::down, ref, atoms::process, sleeper, atoms::killed}));
}

} // namespace
} // namespace vigil::test
