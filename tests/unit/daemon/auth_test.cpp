// SPDX-License-Identifier: Apache-2.0
#include "vigil/daemon/auth.hpp"

#include "vigil/daemon/socket_path.hpp"

#include <gtest/gtest.h>

namespace {

using vigil::daemon::access_policy;
using vigil::daemon::authorized;
using vigil::daemon::peer_credentials;
using vigil::daemon::resolve_policy;

peer_credentials peer(::uid_t uid, ::gid_t gid, std::vector<::gid_t> groups = {}) {
  return {1234, uid, gid, std::move(groups)};
}

TEST(Authorization, AllowsRootAndTheDaemonsOwnUser) {
  access_policy policy{1000, {}, {}};
  EXPECT_TRUE(authorized(peer(0, 0), policy));
  EXPECT_TRUE(authorized(peer(1000, 1000), policy));
  EXPECT_FALSE(authorized(peer(1001, 1001), policy));
  EXPECT_FALSE(authorized(peer(65534, 65534), policy));
}

TEST(Authorization, AllowsListedUsers) {
  access_policy policy{0, {1001}, {}};
  EXPECT_TRUE(authorized(peer(1001, 5), policy));
  EXPECT_FALSE(authorized(peer(1002, 5), policy));
}

TEST(Authorization, AllowsMembersOfListedGroupsPrimaryOrSupplementary) {
  access_policy policy{0, {}, {50}};
  EXPECT_TRUE(authorized(peer(1001, 50), policy));
  EXPECT_TRUE(authorized(peer(1001, 1001, {7, 50}), policy));
  EXPECT_FALSE(authorized(peer(1001, 1001, {7, 8}), policy));
}

TEST(ResolvePolicy, TakesNumericIdsAndNames) {
  std::vector<std::string> users{"root", "1234"};
  std::vector<std::string> groups{"0", "root"};
  auto r = resolve_policy(users, groups, 1000);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.policy.daemon_uid, 1000U);
  EXPECT_EQ(r.policy.uids, (std::vector<::uid_t>{0, 1234}));
  EXPECT_EQ(r.policy.gids, (std::vector<::gid_t>{0, 0}));
}

TEST(ResolvePolicy, LeavesOutUnknownNamesWithAWarning) {
  std::vector<std::string> users{"no-such-user-vigil"};
  std::vector<std::string> groups{"no-such-group-vigil"};
  auto r = resolve_policy(users, groups, 0);
  EXPECT_TRUE(r.policy.uids.empty());
  EXPECT_TRUE(r.policy.gids.empty());
  ASSERT_EQ(r.warnings.size(), 2U);
  EXPECT_NE(r.warnings[0].find("no-such-user-vigil"), std::string::npos);
}

TEST(SocketMode, IsPrivateUnlessSomeoneElseIsAllowed) {
  using vigil::daemon::socket_mode_for;
  auto only_us = socket_mode_for(access_policy{0, {}, {}});
  EXPECT_EQ(only_us.file, 0600U);
  EXPECT_EQ(only_us.dir, 0700U);
  auto group = socket_mode_for(access_policy{0, {}, {50}});
  EXPECT_EQ(group.file, 0660U);
  EXPECT_EQ(group.group, 50U);
  auto users = socket_mode_for(access_policy{0, {1001}, {}});
  EXPECT_EQ(users.file, 0666U);
  EXPECT_FALSE(users.group);
}

TEST(DefaultSocketPath, FollowsTheDesignRule) {
  using vigil::daemon::default_socket_path;
  using vigil::daemon::socket_env;
  EXPECT_EQ(default_socket_path(socket_env{"/run/vigil:/run/x", "/run/user/0", true}),
            "/run/vigil/control.sock");
  EXPECT_EQ(default_socket_path(socket_env{std::nullopt, "/run/user/0", true}),
            "/run/vigil/control.sock");
  EXPECT_EQ(default_socket_path(socket_env{std::nullopt, "/run/user/1000", false}),
            "/run/user/1000/vigil/control.sock");
  EXPECT_EQ(default_socket_path(socket_env{std::nullopt, std::nullopt, false}),
            "/run/vigil/control.sock");
}

} // namespace
