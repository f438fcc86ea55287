// SPDX-License-Identifier: Apache-2.0
// The pure restart rules: the decision table, the intensity window, backoff, validation.
#include "vigil/supervision/restart.hpp"

#include "core_fixture.hpp"

#include <gtest/gtest.h>

namespace vigil::supervision::test {
namespace {

// semantics 21: OTP's do_restart/3, all nine cells
TEST(RestartDecision, FollowsTheOtpTable) {
  struct row {
    restart_type type;
    exit_kind kind;
    bool restart;
  };

  const row table[] = {
      {restart_type::permanent, exit_kind::normal, true},
      {restart_type::permanent, exit_kind::shutdown, true},
      {restart_type::permanent, exit_kind::abnormal, true},
      {restart_type::transient, exit_kind::normal, false},
      {restart_type::transient, exit_kind::shutdown, false},
      {restart_type::transient, exit_kind::abnormal, true},
      {restart_type::temporary, exit_kind::normal, false},
      {restart_type::temporary, exit_kind::shutdown, false},
      {restart_type::temporary, exit_kind::abnormal, false},
  };
  for (const auto& r : table) {
    EXPECT_EQ(should_restart(r.type, r.kind), r.restart)
        << static_cast<int>(r.type) << " x " << static_cast<int>(r.kind);
  }
}

// semantics 21: normal, shutdown and {shutdown, _} are the non-abnormal reasons
TEST(RestartDecision, ClassifiesExitReasons) {
  EXPECT_EQ(classify(atoms::normal), exit_kind::normal);
  EXPECT_EQ(classify(atoms::shutdown), exit_kind::shutdown);
  EXPECT_EQ(classify(vigil::make_tuple(atoms::shutdown, atom("reload"))), exit_kind::shutdown);
  EXPECT_EQ(classify(atoms::killed), exit_kind::abnormal);
  EXPECT_EQ(classify(atom("crash")), exit_kind::abnormal);
  EXPECT_EQ(classify(vigil::make_tuple(atoms::shutdown, 1, 2)), exit_kind::abnormal);
  EXPECT_EQ(classify(term("normal")), exit_kind::abnormal); // a string, not the atom
}

TEST(RestartIntensity, AllowsIntensityRestartsWithinThePeriod) {
  restart_intensity uut(3, 5s);
  time_point t{};
  EXPECT_TRUE(uut.record(t));
  EXPECT_TRUE(uut.record(t + 1s));
  EXPECT_TRUE(uut.record(t + 2s));
  EXPECT_FALSE(uut.record(t + 3s));
}

TEST(RestartIntensity, ZeroIntensityRejectsTheFirstRestart) {
  restart_intensity uut(0, 5s);
  EXPECT_FALSE(uut.record(time_point{}));
}

// A restart leaves the window once `period` has passed since it (OTP: Now < Then + Period).
TEST(RestartIntensity, TheWindowSlides) {
  restart_intensity uut(2, 10s);
  time_point t{};
  EXPECT_TRUE(uut.record(t));       // {0}
  EXPECT_TRUE(uut.record(t + 4s));  // {0, 4}
  EXPECT_TRUE(uut.record(t + 10s)); // 0 left exactly at 10 s: {4, 10}
  EXPECT_EQ(uut.size(), 2U);
  EXPECT_FALSE(uut.record(t + 13s)); // {4, 10, 13}
  EXPECT_TRUE(uut.record(t + 30s));  // all old ones gone
  EXPECT_EQ(uut.size(), 1U);
}

TEST(RestartIntensity, ASteadyTrickleBelowTheRateNeverEscalates) {
  restart_intensity uut(3, 5s);
  time_point t{};
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(uut.record(t + i * 1700ms)) << i; // at most 3 in any 5 s
  }
}

TEST(BackoffDelay, DoublesFromInitialUpToMax) {
  auto policy = backoff(100ms, 1s);
  EXPECT_EQ(backoff_delay(policy, 1, 0.5), 100ms);
  EXPECT_EQ(backoff_delay(policy, 2, 0.5), 200ms);
  EXPECT_EQ(backoff_delay(policy, 3, 0.5), 400ms);
  EXPECT_EQ(backoff_delay(policy, 4, 0.5), 800ms);
  EXPECT_EQ(backoff_delay(policy, 5, 0.5), 1s);
  EXPECT_EQ(backoff_delay(policy, 4000, 0.5), 1s); // pow overflows to inf, capped
}

TEST(BackoffDelay, JitterStaysWithinItsFraction) {
  auto policy = backoff(1000ms, 10s);
  policy.jitter = 0.1;
  EXPECT_EQ(backoff_delay(policy, 1, 0.0), 900ms);
  EXPECT_EQ(backoff_delay(policy, 1, 0.5), 1000ms);
  EXPECT_EQ(backoff_delay(policy, 1, 0.75), 1050ms);
  for (double u = 0.0; u < 1.0; u += 0.01) {
    auto d = backoff_delay(policy, 1, u);
    EXPECT_GE(d, 900ms);
    EXPECT_LE(d, 1100ms);
  }
}

TEST(BackoffDelay, AMultiplierOfOneIsAConstantDelay) {
  auto policy = backoff(250ms, 10s, 1.0);
  EXPECT_EQ(backoff_delay(policy, 1, 0.5), 250ms);
  EXPECT_EQ(backoff_delay(policy, 50, 0.5), 250ms);
}

TEST(Validate, AcceptsAPlainSpec) {
  EXPECT_TRUE(validate(make_spec(strategy::one_for_one, {worker("a"), worker("b")})));
}

TEST(Validate, RejectsDuplicateIds) {
  auto r = validate(make_spec(strategy::one_for_one, {worker("a"), worker("a")}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::config_invalid));
  EXPECT_NE(r.error().context.find("duplicate child id 'a'"), std::string::npos);
}

// semantics 22: significant children must not be permanent
TEST(Validate, RejectsASignificantPermanentChild) {
  auto c = worker("a");
  c.significant = true;
  c.where = source_location{"vigil.toml", 12, 1};
  auto r = validate(make_spec(strategy::one_for_one, {c}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().context.rfind("vigil.toml:12:1: ", 0), 0U) << r.error().context;
}

TEST(Validate, RejectsASupervisorChildWithoutASpec) {
  auto c = worker("inner");
  c.type = child_type::supervisor;
  EXPECT_FALSE(validate(make_spec(strategy::one_for_one, {c})));
}

TEST(Validate, RejectsTwoTemplatesForSimpleOneForOne) {
  EXPECT_FALSE(validate(make_spec(strategy::simple_one_for_one, {worker("a"), worker("b")})));
}

TEST(Validate, RejectsABadBackoff) {
  auto c = worker("a");
  c.backoff = backoff(100ms, 50ms);
  EXPECT_FALSE(validate(c));
  c.backoff = backoff(100ms, 1s, 0.5);
  EXPECT_FALSE(validate(c));
  c.backoff = backoff(100ms, 1s);
  c.backoff->jitter = 1.5;
  EXPECT_FALSE(validate(c));
}

TEST(Validate, RejectsAZeroPeriod) {
  EXPECT_FALSE(validate(make_spec(strategy::one_for_one, {worker("a")}, 3, 0ms)));
}

} // namespace
} // namespace vigil::supervision::test
