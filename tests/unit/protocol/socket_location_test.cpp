// SPDX-License-Identifier: Apache-2.0
// The default control socket, as vigild listens on it and vigilctl looks for it.
#include "vigil/protocol/socket_location.hpp"

#include <gtest/gtest.h>

namespace {

using vigil::protocol::default_socket;
using vigil::protocol::socket_source;

TEST(SocketLocation, SystemdsRuntimeDirectoryComesFirst) {
  auto s = default_socket("/run/vigil:/run/other", "/run/user/1000", false);
  EXPECT_EQ(s.path, "/run/vigil/control.sock");
  EXPECT_EQ(s.source, socket_source::runtime_directory);
}

TEST(SocketLocation, RootUsesTheSystemSocket) {
  auto s = default_socket(std::nullopt, "/run/user/0", true);
  EXPECT_EQ(s.path, "/run/vigil/control.sock");
  EXPECT_EQ(s.source, socket_source::system);
}

TEST(SocketLocation, AUserGetsASocketUnderTheirRuntimeDirectory) {
  auto s = default_socket(std::nullopt, "/run/user/1000", false);
  EXPECT_EQ(s.path, "/run/user/1000/vigil/control.sock");
  EXPECT_EQ(s.source, socket_source::user);
}

TEST(SocketLocation, EmptyVariablesCountAsUnset) {
  auto s = default_socket(std::string(), std::string(), false);
  EXPECT_EQ(s.path, "/run/vigil/control.sock");
  EXPECT_EQ(s.source, socket_source::system);
}

} // namespace
