// SPDX-License-Identifier: Apache-2.0
#include "vigil/common/duration.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ReadsEachUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds{250});
  EXPECT_EQ(parse_duration("5s"), milliseconds{5'000});
  EXPECT_EQ(parse_duration("1m"), milliseconds{60'000});
  EXPECT_EQ(parse_duration("2h"), milliseconds{7'200'000});
  EXPECT_EQ(parse_duration("1d"), milliseconds{86'400'000});
  EXPECT_EQ(parse_duration("0s"), milliseconds{0});
}

TEST(Duration, ReadsUnitsLargestFirst) {
  EXPECT_EQ(parse_duration("1m30s"), milliseconds{90'000});
  EXPECT_EQ(parse_duration("1s500ms"), milliseconds{1'500});
  EXPECT_EQ(parse_duration("1d2h3m4s5ms"), milliseconds{93'784'005});
}

TEST(Duration, RejectsWhatIsNotADuration) {
  for (const char* text : {"", "5", "s", "ms", "5x", "5 s", " 5s", "5s ", "-5s", "1.5s", "5S",
                           "infinity", "1s1m", "1s1s", "5sec", "1m30"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(Duration, RejectsTotalsBeyondTwoToTheFiftyThirdMilliseconds) {
  EXPECT_EQ(parse_duration("99999999999999999999999ms"), std::nullopt);
  EXPECT_EQ(parse_duration("200000000d"), std::nullopt);
  EXPECT_EQ(parse_duration("100000d100000d"), std::nullopt);
  EXPECT_NE(parse_duration("100000d"), std::nullopt);
}

TEST(Duration, FormatsWithTheLargestExactUnits) {
  EXPECT_EQ(format_duration(milliseconds{0}), "0s");
  EXPECT_EQ(format_duration(milliseconds{250}), "250ms");
  EXPECT_EQ(format_duration(milliseconds{5'000}), "5s");
  EXPECT_EQ(format_duration(milliseconds{90'000}), "1m30s");
  EXPECT_EQ(format_duration(milliseconds{1'500}), "1s500ms");
  EXPECT_EQ(format_duration(milliseconds{86'400'000}), "1d");
}

TEST(Duration, FormattedDurationsReadBack) {
  for (std::int64_t ms :
       {1LL, 999LL, 1'000LL, 61'001LL, 3'600'000LL, 93'784'005LL, (1LL << 53) - 1}) {
    EXPECT_EQ(parse_duration(format_duration(milliseconds{ms})), milliseconds{ms}) << ms;
  }
}

} // namespace
} // namespace vigil
