// SPDX-License-Identifier: Apache-2.0
#pragma once

// The event hub: the process of vigild that watches what must not die unseen. It monitors
// the root supervisor (an exit nobody asked for is supervisor_gave_up, and the daemon stops)
// and each control session (its death closes the connection). What happens to the children
// of the tree does not pass through it: the supervisors tell it to the daemon's sink
// (tree_events.hpp) themselves.
//
// The hub is one of vigild's own processes (protected_pids.hpp): no worker or client can send
// to it, and it ignores any message of the daemon's kinds that lacks the daemon's private key
// (`daemon_state::hub_key`), so even a process that forwards what it is told to cannot forge
// one. A sentinel process and the hub monitor each other: if either dies, vigild logs what
// died and why and stops its tree with exit code 111, rather than run on without a watch on
// the root (docs/vigild.md, "Exit codes").

#include "vigil/runtime/context.hpp"

#include <cstdint>

namespace vigil::daemon {

class daemon_state;

/// Spawns the hub; `st` must outlive it.
[[nodiscard]] pid start_event_hub(daemon_state& st);

/// Tells the hub that `root` is the root supervisor now (a null pid: none, while a reload
/// replaces the tree).
void announce_root(const daemon_state& st, pid root);

/// Waits until the hub has reported the exit of the root it watched (after a stop), or
/// `limit`; false after `limit`. Run by a process of vigild's.
[[nodiscard]] task<bool> drain_events(context& self, const daemon_state& st, timeout limit);

/// Asks the hub to close connection `conn` when `session` dies.
void watch_session(const daemon_state& st, pid session, std::uint64_t conn);

} // namespace vigil::daemon
