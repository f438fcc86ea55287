// SPDX-License-Identifier: Apache-2.0
#include "vigil/protocol/term_args.hpp"

#include "vigil/term/text.hpp"

#include <gtest/gtest.h>

namespace {

using vigil::pid;
using vigil::protocol::parse_client_term;
using vigil::protocol::parse_target;
using vigil::protocol::split_path;
using vigil::protocol::substitute_self;
using vigil::protocol::target;

const pid session{0, 42, 3};

TEST(SubstituteSelf, ReplacesSelfCallsAndBareSelf) {
  EXPECT_EQ(substitute_self("{self(), :ok}", session), "{#PID<0.42.3>, :ok}");
  EXPECT_EQ(substitute_self("[self, self]", session), "[#PID<0.42.3>, #PID<0.42.3>]");
}

TEST(SubstituteSelf, LeavesAtomsStringsKeysAndLongerNamesAlone) {
  for (const char* text : {":self", "\"self()\"", ":\"self\"", "%{self: 1}", "[self: 1]", "myself",
                           "self_test", "Kernel.self", "'self'"}) {
    EXPECT_EQ(substitute_self(text, session), text) << text;
  }
}

TEST(SubstituteSelf, LeavesPidLiteralsAndNumbersAlone) {
  EXPECT_EQ(substitute_self("{#PID<0.1.2>, 1.5e3}", session), "{#PID<0.1.2>, 1.5e3}");
}

TEST(ParseClientTerm, ReadsTermsWithTheSessionPid) {
  auto t = parse_client_term("{self(), :ok}", session);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, vigil::make_tuple(session, vigil::atoms::ok));
}

TEST(ParseClientTerm, ReportsBadTermText) {
  auto t = parse_client_term("{:ok", session);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("bad term text '{:ok'"), std::string::npos) << t.error();
}

TEST(ParseClientTerm, RefusesNestingDeeperThanTheProtocolLimit) {
  EXPECT_TRUE(parse_client_term(std::string(64, '[') + std::string(64, ']'), session));
  EXPECT_FALSE(parse_client_term(std::string(65, '[') + std::string(65, ']'), session));
}

TEST(ParseTarget, ReadsPidsInBothSyntaxes) {
  for (const char* text : {"#PID<0.1.2>", "<0.1.2>"}) {
    auto t = parse_target(text, session);
    ASSERT_TRUE(t) << text;
    EXPECT_EQ(t->what, target::kind::process);
    EXPECT_EQ(t->process, (pid{0, 1, 2}));
  }
}

TEST(ParseTarget, ReadsSelfAsTheSession) {
  for (const char* text : {"self", "self()"}) {
    auto t = parse_target(text, session);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->what, target::kind::process);
    EXPECT_EQ(t->process, session);
  }
}

TEST(ParseTarget, ReadsAtomsAsRegisteredNames) {
  auto t = parse_target(":echo", session);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->what, target::kind::registered);
  EXPECT_EQ(t->name, "echo");
  auto quoted = parse_target(":\"my name\"", session);
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->name, "my name");
}

TEST(ParseTarget, ReadsIdsAndPathsAsNames) {
  for (const char* text : {"echo", "root/jobs/dispatcher", "jobs/worker_1", "a-b.c"}) {
    auto t = parse_target(text, session);
    ASSERT_TRUE(t) << text;
    EXPECT_EQ(t->what, target::kind::name);
    EXPECT_EQ(t->name, text);
  }
}

TEST(ParseTarget, RejectsMalformedTargets) {
  for (const char* text : {"", "<0.1>", "#PID<x>", "a//b", "/a", "a/", "a b", ":", "{1}"}) {
    EXPECT_FALSE(parse_target(text, session)) << text;
  }
}

TEST(SplitPath, DropsTheLeadingRoot) {
  using ids = std::vector<std::string>;
  EXPECT_EQ(split_path("root/jobs/x"), (ids{"jobs", "x"}));
  EXPECT_EQ(split_path("jobs/x"), (ids{"jobs", "x"}));
  EXPECT_EQ(split_path("root"), ids{});
  EXPECT_EQ(split_path("echo"), ids{"echo"});
}

} // namespace
