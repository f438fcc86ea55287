// SPDX-License-Identifier: Apache-2.0
#include "refusal_log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using vigil::daemon::refusal_log;
using namespace std::chrono_literals;

struct logged {
  std::vector<std::string> lines;
  refusal_log log{[this](const std::string& l) { lines.push_back(l); }};
};

TEST(RefusalLog, WritesTheFirstRefusalInFull) {
  logged l;
  auto t = refusal_log::clock::time_point{} + 100s;
  l.log.refused("refused uid 7", "uid 7", "not allowed", t);
  ASSERT_EQ(l.lines.size(), 1U);
  EXPECT_EQ(l.lines[0], "refused uid 7");
  // A quiet period ends with nothing to say; the next refusal is written in full again.
  EXPECT_EQ(l.log.tick(t + 500ms), t + 1s);
  EXPECT_EQ(l.log.tick(t + 1s), std::nullopt);
  l.log.refused("refused uid 8", "uid 8", "not allowed", t + 5s);
  EXPECT_EQ(l.lines.size(), 2U);
}

TEST(RefusalLog, SumsUpAFloodInOneLineAPeriod) {
  logged l;
  auto t = refusal_log::clock::time_point{} + 100s;
  // 3,000 refusals over 2.5 s: the first line, then one summary a second.
  for (int i = 0; i < 3000; ++i) {
    auto now = t + i * 833us;
    l.log.refused("refused uid 7", i % 3 == 0 ? "uid 8" : "uid 7", "not allowed", now);
    (void)l.log.tick(now);
  }
  (void)l.log.tick(t + 10s);
  EXPECT_EQ(l.log.tick(t + 20s), std::nullopt);
  ASSERT_LE(l.lines.size(), 4U);
  ASSERT_GE(l.lines.size(), 3U);
  std::size_t total = 1;
  for (std::size_t i = 1; i < l.lines.size(); ++i) {
    const auto& line = l.lines[i];
    ASSERT_EQ(line.rfind("refused ", 0), 0U) << line;
    total += std::stoul(line.substr(8));
    EXPECT_NE(line.find("uid 7 (not allowed) x"), std::string::npos) << line;
  }
  EXPECT_EQ(total, 3000U);
}

TEST(RefusalLog, NamesAFewClientsAndCountsTheRest) {
  logged l;
  auto t = refusal_log::clock::time_point{} + 100s;
  l.log.refused("first", "uid 0", "x", t);
  for (int uid = 1; uid <= 100; ++uid) {
    l.log.refused("-", "uid " + std::to_string(uid), "x", t);
  }
  (void)l.log.tick(t + 1s);
  ASSERT_EQ(l.lines.size(), 2U);
  EXPECT_EQ(l.lines[1].rfind("refused 100 more", 0), 0U) << l.lines[1];
  EXPECT_NE(l.lines[1].find(", and 92 others"), std::string::npos) << l.lines[1];
}

} // namespace
