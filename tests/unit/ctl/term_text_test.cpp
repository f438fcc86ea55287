// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/term_text.hpp"

#include <gtest/gtest.h>

namespace {

TEST(CtlTermText, ChecksTermTextWithSelfStandingForAPid) {
  EXPECT_TRUE(vigil::ctl::check_term_text("{self(), :ok}"));
  EXPECT_TRUE(vigil::ctl::check_term_text("{self, :ping}"));
  EXPECT_TRUE(vigil::ctl::check_term_text("\"self()\""));
  auto bad = vigil::ctl::check_term_text("{self(), :ok");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("expected"), std::string::npos);
}

// Where check_term_text or resolve_term_text says the error is: "line:column".
std::string where(const vigil::result<void, vigil::parse_error>& r) {
  return r ? "ok" : std::to_string(r.error().line) + ":" + std::to_string(r.error().column);
}

std::string where(const vigil::result<std::string, vigil::parse_error>& r) {
  return r ? "ok" : std::to_string(r.error().line) + ":" + std::to_string(r.error().column);
}

TEST(CtlTermText, LocatesErrorsInTheTextAsTyped) {
  EXPECT_EQ(where(vigil::ctl::check_term_text("{self(), :ok")), "1:13");
  EXPECT_EQ(where(vigil::ctl::check_term_text("{\n self(), :ok")), "2:13");
}

TEST(CtlTermText, LocatesErrorsAfterOrInsideAReplacement) {
  auto lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "pid") {
      return "#PID<0.74.0>";
    }
    return name == "x" ? std::optional<std::string>("[1,") : std::nullopt;
  };
  EXPECT_EQ(where(vigil::ctl::resolve_term_text("{pid pid}", lookup)), "1:6");
  EXPECT_EQ(where(vigil::ctl::resolve_term_text("{x}", lookup)), "1:3");
}

TEST(CtlTermText, NormalizesTermText) {
  auto n = vigil::ctl::normalize_term("{ :ok,1 }");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, "{:ok, 1}");
  EXPECT_EQ(*vigil::ctl::normalize_term("<0.74.0>"), "#PID<0.74.0>");
  EXPECT_FALSE(vigil::ctl::normalize_term("{"));
}

TEST(CtlTermText, ReadsReplyStringsAsTermsWhenTheyAreTerms) {
  EXPECT_EQ(vigil::ctl::term_or_string("waiting"), ":waiting");
  EXPECT_EQ(vigil::ctl::term_or_string("#PID<0.74.0>"), "#PID<0.74.0>");
  EXPECT_EQ(vigil::ctl::term_or_string("{:ok, :pong}"), "{:ok, :pong}");
  EXPECT_EQ(vigil::ctl::term_or_string("echo.cpp:42 (loop)"), "\"echo.cpp:42 (loop)\"");
}

TEST(CtlTermText, KnowsWhatNamesAVariable) {
  using vigil::ctl::is_variable_name;
  EXPECT_TRUE(is_variable_name("pid"));
  EXPECT_TRUE(is_variable_name("server_pid"));
  EXPECT_TRUE(is_variable_name("_x1"));
  EXPECT_FALSE(is_variable_name("Pid"));
  EXPECT_FALSE(is_variable_name("self"));
  EXPECT_FALSE(is_variable_name("nil"));
  EXPECT_FALSE(is_variable_name("1x"));
  EXPECT_FALSE(is_variable_name("a@b"));
  EXPECT_FALSE(is_variable_name(""));
}

} // namespace
