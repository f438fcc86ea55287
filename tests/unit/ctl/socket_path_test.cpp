// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/socket_path.hpp"

#include <gtest/gtest.h>

namespace {

using vigil::ctl::choose_socket;
using vigil::ctl::socket_candidates;
using vigil::ctl::socket_env;
using strings = std::vector<std::string>;

TEST(CtlSocketPath, FlagWinsOverEverything) {
  socket_env env{"/tmp/a.sock", "/tmp/b.sock", "/run/vigil", "/run/user/1000", true};
  EXPECT_EQ(socket_candidates(env), strings{"/tmp/a.sock"});
}

TEST(CtlSocketPath, VigilSocketComesNext) {
  socket_env env{std::nullopt, "/tmp/b.sock", "/run/vigil", "/run/user/1000", false};
  EXPECT_EQ(socket_candidates(env), strings{"/tmp/b.sock"});
}

TEST(CtlSocketPath, EmptyValuesCountAsUnset) {
  socket_env env{"", "", "", "/run/user/1000", false};
  EXPECT_EQ(socket_candidates(env),
            (strings{"/run/user/1000/vigil/control.sock", "/run/vigil/control.sock"}));
}

TEST(CtlSocketPath, RuntimeDirectoryAsSystemdSetsIt) {
  socket_env env{std::nullopt, std::nullopt, "/run/vigil", "/run/user/0", true};
  EXPECT_EQ(socket_candidates(env), strings{"/run/vigil/control.sock"});
}

TEST(CtlSocketPath, FirstOfSeveralRuntimeDirectories) {
  socket_env env{std::nullopt, std::nullopt, "/run/vigil:/run/other", std::nullopt, false};
  EXPECT_EQ(socket_candidates(env), strings{"/run/vigil/control.sock"});
}

TEST(CtlSocketPath, RootUsesTheSystemSocket) {
  socket_env env{std::nullopt, std::nullopt, std::nullopt, "/run/user/0", true};
  EXPECT_EQ(socket_candidates(env), strings{"/run/vigil/control.sock"});
}

TEST(CtlSocketPath, UserTriesTheirOwnDaemonThenTheSystemOne) {
  socket_env env{std::nullopt, std::nullopt, std::nullopt, "/run/user/1000", false};
  EXPECT_EQ(socket_candidates(env),
            (strings{"/run/user/1000/vigil/control.sock", "/run/vigil/control.sock"}));
}

TEST(CtlSocketPath, UserWithoutXdgRuntimeDirFallsBackToTheSystemSocket) {
  socket_env env{std::nullopt, std::nullopt, std::nullopt, std::nullopt, false};
  EXPECT_EQ(socket_candidates(env), strings{"/run/vigil/control.sock"});
}

TEST(CtlSocketPath, ChoosesTheFirstThatExists) {
  strings candidates{"/a", "/b", "/c"};
  EXPECT_EQ(choose_socket(candidates, [](const std::string& p) { return p != "/a"; }), "/b");
  EXPECT_EQ(choose_socket(candidates, [](const std::string&) { return true; }), "/a");
}

TEST(CtlSocketPath, NamesTheBestCandidateWhenNoneExists) {
  strings candidates{"/a", "/b"};
  EXPECT_EQ(choose_socket(candidates, [](const std::string&) { return false; }), "/a");
}

} // namespace
