// SPDX-License-Identifier: Apache-2.0
#include "vigil/protocol/framing.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using vigil::protocol::line_buffer;
using vigil::protocol::max_request_line;

TEST(LineBuffer, SplitsLinesAndDropsTheNewline) {
  line_buffer uut;
  uut.append("one\ntwo\n");
  EXPECT_EQ(uut.next_line(), "one");
  EXPECT_EQ(uut.next_line(), "two");
  EXPECT_EQ(uut.next_line(), std::nullopt);
  EXPECT_FALSE(uut.overflowed());
}

TEST(LineBuffer, JoinsALineThatArrivesInPieces) {
  line_buffer uut;
  uut.append("{\"cmd\":");
  EXPECT_EQ(uut.next_line(), std::nullopt);
  uut.append("\"status\"}");
  EXPECT_EQ(uut.next_line(), std::nullopt);
  uut.append("\n{");
  EXPECT_EQ(uut.next_line(), "{\"cmd\":\"status\"}");
  EXPECT_EQ(uut.next_line(), std::nullopt);
  EXPECT_EQ(uut.buffered(), 1U);
}

TEST(LineBuffer, KeepsEmptyLines) {
  line_buffer uut;
  uut.append("\n\nx\n");
  EXPECT_EQ(uut.next_line(), "");
  EXPECT_EQ(uut.next_line(), "");
  EXPECT_EQ(uut.next_line(), "x");
}

TEST(LineBuffer, AcceptsALineOfExactlyTheLimitNewlineIncluded) {
  line_buffer uut;
  std::string line(max_request_line - 1, 'a');
  uut.append(line + "\n");
  EXPECT_EQ(uut.next_line(), line);
  EXPECT_FALSE(uut.overflowed());
}

TEST(LineBuffer, OverflowsOnALineOneByteOverTheLimit) {
  line_buffer uut;
  uut.append(std::string(max_request_line, 'a') + "\n");
  EXPECT_EQ(uut.next_line(), std::nullopt);
  EXPECT_TRUE(uut.overflowed());
}

TEST(LineBuffer, OverflowsWithoutWaitingForTheNewline) {
  line_buffer uut;
  uut.append(std::string(max_request_line - 1, 'a'));
  EXPECT_EQ(uut.next_line(), std::nullopt);
  EXPECT_FALSE(uut.overflowed());
  uut.append("a");
  EXPECT_EQ(uut.next_line(), std::nullopt);
  EXPECT_TRUE(uut.overflowed());
}

TEST(LineBuffer, ReturnsTheLinesBeforeAnOverlongOne) {
  line_buffer uut(8);
  uut.append("ok\nmuch too long\nnever\n");
  EXPECT_EQ(uut.next_line(), "ok");
  EXPECT_EQ(uut.next_line(), std::nullopt);
  EXPECT_TRUE(uut.overflowed());
  uut.append("more\n");
  EXPECT_EQ(uut.next_line(), std::nullopt);
}

TEST(LineBuffer, StaysBoundedOverManyLines) {
  line_buffer uut(16);
  for (int i = 0; i < 10000; ++i) {
    uut.append("0123456789\n");
    ASSERT_EQ(uut.next_line(), "0123456789");
  }
  EXPECT_EQ(uut.buffered(), 0U);
}

} // namespace
