// SPDX-License-Identifier: Apache-2.0
// supervisor_core's exit-code policy for OS children: success_exit_codes count as :normal,
// no_restart_exit_codes stop the child for good, whatever its restart type.
#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

using ExitCodes = core_test;

term status(std::int64_t n) {
  return vigil::make_tuple(atom("exit_status"), n);
}

child_spec command(std::string id, restart_type restart) {
  child_spec c = worker(std::move(id), restart);
  c.mode = "command";
  c.os.command = {"sh", "-c", "exit 3"};
  c.os.success_exit_codes = {3};
  c.os.no_restart_exit_codes = {64};
  return c;
}

TEST_F(ExitCodes, ASuccessExitCodeEndsATransientChildAsNormal) {
  make(make_spec(strategy::one_for_one, {command("job", restart_type::transient)}));
  start();
  take();
  exit("job", status(3));
  EXPECT_TRUE(take().empty()) << "not restarted";
  EXPECT_TRUE(uut->take_reports().empty()) << "a normal end is no report";
  EXPECT_EQ(state_of("job"), child_state::stopped);
}

TEST_F(ExitCodes, AnUnlistedExitCodeIsStillACrash) {
  make(make_spec(strategy::one_for_one, {command("job", restart_type::transient)}));
  start();
  take();
  exit("job", status(4));
  EXPECT_EQ(take(), (steps{"start job"}));
}

TEST_F(ExitCodes, ANoRestartExitCodeStopsEvenAPermanentChildWithItsReason) {
  make(make_spec(strategy::one_for_one, {command("job", restart_type::permanent)}));
  start();
  take();
  exit("job", status(64));
  EXPECT_TRUE(take().empty()) << "not restarted";
  auto rows = uut->which_children(now);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].state, child_state::stopped);
  EXPECT_EQ(rows[0].reason, "{:exit_status, 64}");
  auto reports = uut->take_reports();
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0].what, exit_report::decision::none);

  request r;
  r.what = request::kind::restart_child;
  r.id = "job";
  call(r);
  EXPECT_EQ(take(), (steps{"start job"})) << "an operator can start it again";
  EXPECT_EQ(uut->which_children(now)[0].reason, "");
}

TEST_F(ExitCodes, ANoRestartExitCodeRestartsNoSibling) {
  auto job = command("job", restart_type::permanent);
  make(make_spec(strategy::rest_for_one, {job, worker("after")}));
  start();
  take();
  exit("job", status(64));
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(state_of("after"), child_state::running);
}

} // namespace
} // namespace vigil::supervision::test
