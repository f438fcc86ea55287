// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/duration.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using vigil::ctl::parse_duration;

TEST(CtlDuration, ReadsTheConfigUnits) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("1s"), 1s);
  EXPECT_EQ(parse_duration("2m"), 2min);
  EXPECT_EQ(parse_duration("3h"), 3h);
  EXPECT_EQ(parse_duration("1d"), 24h);
  EXPECT_EQ(parse_duration("0s"), 0ms);
}

TEST(CtlDuration, AddsGroupsLargestFirst) {
  EXPECT_EQ(parse_duration("1m30s"), 90s);
  EXPECT_EQ(parse_duration("1s500ms"), 1500ms);
  EXPECT_EQ(parse_duration("1h1m1s1ms"), 3'661'001ms);
}

TEST(CtlDuration, ReadsBareDigitsAsMilliseconds) {
  EXPECT_EQ(parse_duration("1000"), 1000ms);
  EXPECT_EQ(parse_duration("0"), 0ms);
}

TEST(CtlDuration, RejectsAnythingElse) {
  for (const char* text : {"", "s", "1x", "1.5s", "-1s", " 1s", "1s ", "1s1m", "1s1s", "1ms1s",
                           "1 s", "ms", "1m1", "1sec"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(CtlDuration, RejectsTotalsPastTwoToThe53Milliseconds) {
  EXPECT_EQ(parse_duration("9007199254740992"), 9'007'199'254'740'992ms);
  EXPECT_EQ(parse_duration("9007199254740993"), std::nullopt);
  EXPECT_EQ(parse_duration("200000000d"), std::nullopt);
}

} // namespace
