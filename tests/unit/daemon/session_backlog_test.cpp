// SPDX-License-Identifier: Apache-2.0
#include "session.hpp"

#include <gtest/gtest.h>

#include <cstddef>

namespace {

using vigil::daemon::reply_backlog_limit;
using vigil::daemon::reply_cost;
using vigil::daemon::session_channel;

// The error a pipelined empty line gets: {"v":1,"id":null,"ok":false,"error":{...}}\n
constexpr std::size_t tiny_reply = 86;

TEST(SessionBacklog, TinyRepliesBacklogTheSessionAtTheMemoryTheyHoldNotAtTheirText) {
  session_channel ch(1, 0);
  std::size_t posted = 0;
  while (!ch.backlogged()) {
    ch.reply_posted(tiny_reply);
    ++posted;
  }
  // Each counts its string and queue entries too: far fewer than 4 MiB / 86 bytes wait.
  EXPECT_EQ(posted, reply_backlog_limit / reply_cost(tiny_reply) + 1);
  EXPECT_LT(posted * tiny_reply, reply_backlog_limit / 2);
}

TEST(SessionBacklog, WritingTheRepliesWakesTheSessionOnceAndLeavesNothingCounted) {
  session_channel ch(1, 0);
  std::size_t posted = 0;
  while (!ch.backlogged()) {
    ch.reply_posted(tiny_reply);
    ++posted;
  }
  int wakes = 0;
  for (std::size_t i = 0; i < posted; ++i) {
    wakes += ch.reply_written(tiny_reply) ? 1 : 0;
  }
  EXPECT_EQ(wakes, 1) << "the session is woken when the backlog falls under the limit";
  EXPECT_FALSE(ch.backlogged());
  // Posting and writing count the same: one large reply after them backlogs at once.
  ch.reply_posted(reply_backlog_limit);
  EXPECT_TRUE(ch.backlogged());
  EXPECT_TRUE(ch.reply_written(reply_backlog_limit));
  EXPECT_FALSE(ch.backlogged());
}

} // namespace
