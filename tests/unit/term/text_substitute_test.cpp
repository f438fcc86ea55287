// SPDX-License-Identifier: Apache-2.0
#include "vigil/term/text_substitute.hpp"

#include <gtest/gtest.h>

#include <map>

namespace {

using vigil::substitute_identifiers;

std::string with_vars(std::string_view text) {
  static const std::map<std::string, std::string, std::less<>> vars{
      {"pid", "#PID<0.74.0>"}, {"self", "#PID<0.57.0>"}, {"n", "42"}};
  return substitute_identifiers(text, [](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  });
}

TEST(TermTextSubstitute, ReplacesVariablesAndSelf) {
  EXPECT_EQ(with_vars("{self, :ok}"), "{#PID<0.57.0>, :ok}");
  EXPECT_EQ(with_vars("{self(), :ok}"), "{#PID<0.57.0>, :ok}");
  EXPECT_EQ(with_vars("[pid, n, pid]"), "[#PID<0.74.0>, 42, #PID<0.74.0>]");
  EXPECT_EQ(with_vars("pid"), "#PID<0.74.0>");
}

TEST(TermTextSubstitute, LeavesWhatIsNoVariableAlone) {
  EXPECT_EQ(with_vars("\"self pid\""), "\"self pid\"");
  EXPECT_EQ(with_vars("'pid'"), "'pid'");
  EXPECT_EQ(with_vars(":pid"), ":pid");
  EXPECT_EQ(with_vars(":\"pid\""), ":\"pid\"");
  EXPECT_EQ(with_vars("[pid: 1]"), "[pid: 1]");
  EXPECT_EQ(with_vars("%{pid: pid}"), "%{pid: #PID<0.74.0>}");
  EXPECT_EQ(with_vars("#PID<0.74.0>"), "#PID<0.74.0>");
  EXPECT_EQ(with_vars("Mod.pid"), "Mod.pid");
  EXPECT_EQ(with_vars("pids"), "pids");
  EXPECT_EQ(with_vars("0x1Fn"), "0x1Fn");
  EXPECT_EQ(with_vars("\"esc \\\" pid\""), "\"esc \\\" pid\"");
}

std::string where(const vigil::result<vigil::term, vigil::parse_error>& r) {
  return r ? "ok" : std::to_string(r.error().line) + ":" + std::to_string(r.error().column);
}

TEST(TermTextSubstitute, LocatesErrorsAfterOrInsideAReplacementInTheTextAsTyped) {
  auto lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "pid") {
      return "#PID<0.74.0>";
    }
    return name == "x" ? std::optional<std::string>("[1,") : std::nullopt;
  };
  EXPECT_EQ(where(vigil::parse_substituted("{pid pid}", lookup)), "1:6");
  EXPECT_EQ(where(vigil::parse_substituted("{x}", lookup)), "1:3");
  EXPECT_EQ(where(vigil::parse_substituted("{\n pid, :ok", lookup)), "2:10");
}

TEST(TermTextSubstitute, ParsesUnderTheGivenDepthLimit) {
  auto none = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_TRUE(vigil::parse_substituted("[[[1]]]", none, vigil::parse_limits{3}));
  EXPECT_FALSE(vigil::parse_substituted("[[[[1]]]]", none, vigil::parse_limits{3}));
}

} // namespace
