// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/table.hpp"

#include "utc_time_zone.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using vigil::ctl::align;
using vigil::ctl::format_table;
using vigil::ctl::table;

TEST(CtlTable, AlignsColumnsTwoSpacesApart) {
  table t;
  t.header = {"PATH", "PID", "STATE"};
  t.rows = {{"root/echo", "#PID<0.74.0>", "running"}, {"root/pool/w1", "-", "stopped"}};
  EXPECT_EQ(format_table(t), "PATH          PID           STATE\n"
                             "root/echo     #PID<0.74.0>  running\n"
                             "root/pool/w1  -             stopped\n");
}

TEST(CtlTable, RightAlignsNumberColumns) {
  table t;
  t.header = {"NAME", "RESTARTS"};
  t.aligns = {align::left, align::right};
  t.rows = {{"a", "3"}, {"b", "120"}};
  EXPECT_EQ(format_table(t), "NAME  RESTARTS\n"
                             "a            3\n"
                             "b          120\n");
}

TEST(CtlTable, LeavesNoTrailingSpaces) {
  table t;
  t.header = {"A", "B"};
  t.rows = {{"long value", ""}, {"x"}};
  EXPECT_EQ(format_table(t), "A           B\n"
                             "long value\n"
                             "x\n");
}

TEST(CtlTable, CountsUtf8CodePointsAsColumns) {
  table t;
  t.rows = {{"root", "1"}, {"└─ echo", "2"}};
  EXPECT_EQ(format_table(t), "root     1\n"
                             "└─ echo  2\n");
  EXPECT_EQ(vigil::ctl::display_width("├─ é"), 4U);
}

TEST(CtlTable, PrintsTheHeaderOfAnEmptyTable) {
  table t;
  t.header = {"NAME", "PID"};
  EXPECT_EQ(format_table(t), "NAME  PID\n");
  EXPECT_EQ(format_table(table{}), "");
}

TEST(CtlUptime, KeepsTheTwoLargestUnits) {
  using vigil::ctl::format_uptime;
  EXPECT_EQ(format_uptime(0ms), "0s");
  EXPECT_EQ(format_uptime(999ms), "0s");
  EXPECT_EQ(format_uptime(45s), "45s");
  EXPECT_EQ(format_uptime(5min + 3s), "5m03s");
  EXPECT_EQ(format_uptime(2h + 5min + 59s), "2h05m");
  EXPECT_EQ(format_uptime(76h + 30min), "3d04h");
  EXPECT_EQ(format_uptime(-5s), "0s");
}

TEST(CtlTimestamp, PrintsLocalTimeToTheMillisecond) {
  vigil::ctl::testing::utc_time_zone utc;
  EXPECT_EQ(vigil::ctl::format_timestamp(1'795'698'010'123), "2026-11-26 13:00:10.123");
  EXPECT_EQ(vigil::ctl::format_timestamp(0), "1970-01-01 00:00:00.000");
  EXPECT_EQ(vigil::ctl::format_timestamp(-1), "1969-12-31 23:59:59.999");
}

} // namespace
