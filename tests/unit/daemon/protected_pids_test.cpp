// SPDX-License-Identifier: Apache-2.0
#include "protected_pids.hpp"

#include <gtest/gtest.h>

namespace vigil::daemon {
namespace {

const pid hub{0, 1, 1};
const pid mine{0, 40, 1};
const pid theirs{0, 41, 1};

TEST(ProtectedPids, TheDaemonsOwnAreShieldedFromWorkersAndClients) {
  protected_pids uut;
  uut.add(hub, "vigild's event hub");
  EXPECT_TRUE(uut.shields(hub));
  auto why = uut.refusal(hub, mine);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "#PID<0.1.1> is vigild's event hub; it cannot be sent to, killed or exited "
                  "from outside");
}

TEST(ProtectedPids, ASessionIsItsOwnClientsAndReachableByWorkersGivenIt) {
  protected_pids uut;
  uut.add(mine, "the session of control connection 16", protected_pids::role::session);
  uut.add(theirs, "the session of control connection 17", protected_pids::role::session);
  EXPECT_FALSE(uut.shields(mine));
  EXPECT_FALSE(uut.refusal(mine, mine));
  EXPECT_TRUE(uut.refusal(theirs, mine));
}

TEST(ProtectedPids, AScopeProtectsForItsLifetime) {
  protected_pids uut;
  {
    protected_scope guard(uut, hub, "vigild's sentinel");
    EXPECT_TRUE(uut.shields(hub));
  }
  EXPECT_FALSE(uut.shields(hub));
  EXPECT_EQ(uut.size(), 0U);
}

} // namespace
} // namespace vigil::daemon
