// SPDX-License-Identifier: Apache-2.0
// The OTP matrix (supervisor_SUITE's permanent_normal ... temporary_abnormal): each restart
// type against each kind of exit, on a running supervisor.
#include "core_fixture.hpp"

#include <tuple>

namespace vigil::supervision::test {
namespace {

enum class outcome { restarted, kept_stopped, forgotten };

struct cell {
  restart_type type;
  const char* reason_name; // for the test name
  term reason;
  outcome expected;
};

std::vector<cell> matrix() {
  const term normal = atoms::normal;
  const term shutdown = atoms::shutdown;
  const term shutdown_tuple = vigil::make_tuple(atoms::shutdown, atom("reload"));
  const term abnormal = atom("crash");
  const term killed = atoms::killed;
  return {
      {restart_type::permanent, "Normal", normal, outcome::restarted},
      {restart_type::permanent, "Shutdown", shutdown, outcome::restarted},
      {restart_type::permanent, "ShutdownTuple", shutdown_tuple, outcome::restarted},
      {restart_type::permanent, "Abnormal", abnormal, outcome::restarted},
      {restart_type::permanent, "Killed", killed, outcome::restarted},
      {restart_type::transient, "Normal", normal, outcome::kept_stopped},
      {restart_type::transient, "Shutdown", shutdown, outcome::kept_stopped},
      {restart_type::transient, "ShutdownTuple", shutdown_tuple, outcome::kept_stopped},
      {restart_type::transient, "Abnormal", abnormal, outcome::restarted},
      {restart_type::transient, "Killed", killed, outcome::restarted},
      {restart_type::temporary, "Normal", normal, outcome::forgotten},
      {restart_type::temporary, "Shutdown", shutdown, outcome::forgotten},
      {restart_type::temporary, "ShutdownTuple", shutdown_tuple, outcome::forgotten},
      {restart_type::temporary, "Abnormal", abnormal, outcome::forgotten},
      {restart_type::temporary, "Killed", killed, outcome::forgotten},
  };
}

class RestartMatrix : public core_test, public ::testing::WithParamInterface<cell> {};

TEST_P(RestartMatrix, ExitOfAChildFollowsItsRestartType) {
  const cell& c = GetParam();
  make(make_spec(strategy::one_for_one, {worker("x", c.type), worker("y")}));
  start();
  take();
  pid old = pids["x"];
  exit("x", c.reason);
  switch (c.expected) {
  case outcome::restarted:
    EXPECT_EQ(take(), (steps{"start x"}));
    EXPECT_NE(pids["x"], old);
    EXPECT_EQ(state_of("x"), child_state::running);
    break;
  case outcome::kept_stopped:
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(state_of("x"), child_state::stopped);
    EXPECT_EQ(uut->count_children(), (child_counts{2, 1, 0, 2}));
    break;
  case outcome::forgotten:
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(ids(), (std::vector<std::string>{"y"}));
    break;
  }
  EXPECT_FALSE(uut->exiting()) << "one exit is within the default intensity";
  EXPECT_EQ(state_of("y"), child_state::running) << "the sibling is untouched";
}

std::string cell_name(const ::testing::TestParamInfo<cell>& info) {
  const char* types[] = {"Permanent", "Transient", "Temporary"};
  return std::string(types[static_cast<int>(info.param.type)]) + info.param.reason_name;
}

INSTANTIATE_TEST_SUITE_P(Otp, RestartMatrix, ::testing::ValuesIn(matrix()), cell_name);

// The same matrix inside a dynamic supervisor: a child that is not restarted is forgotten.
class DynamicRestartMatrix : public core_test, public ::testing::WithParamInterface<cell> {};

TEST_P(DynamicRestartMatrix, ExitOfADynamicChildFollowsItsRestartType) {
  const cell& c = GetParam();
  make(make_spec(strategy::simple_one_for_one, {worker("conn", c.type)}));
  start();
  request req;
  req.what = request::kind::start_child;
  call(req);
  take();
  exit("conn", c.reason);
  if (c.expected == outcome::restarted) {
    EXPECT_EQ(take(), (steps{"start conn"}));
    EXPECT_EQ(uut->count_children().active, 1U);
  } else {
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(uut->count_children(), (child_counts{0, 0, 0, 0}));
  }
}

INSTANTIATE_TEST_SUITE_P(Otp, DynamicRestartMatrix, ::testing::ValuesIn(matrix()), cell_name);

} // namespace
} // namespace vigil::supervision::test
