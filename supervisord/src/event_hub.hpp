// SPDX-License-Identifier: Apache-2.0
#pragma once

// The event hub: one process that turns starts and exits in the tree into events.
//
// The supervision component has no event hook yet, so the daemon wraps the child factory:
// each start sends the hub {started, supervisor, id, child}. The hub names the child by its
// path (a supervisor's path is learnt from the root down with which_children, by a short-
// lived resolver process, since a nested supervisor is started by its parent without the
// factory), records process_started / process_restarted, and monitors the child, so that
// its DOWN becomes process_exited with the reason. It also watches the root supervisor (an
// exit nobody asked for is supervisor_gave_up, and the daemon stops), takes the reports of
// nested supervisors that give up (supervision::report_name(): supervisor_gave_up with their
// path) and watches each control session (its death closes the connection).
//
// The hub is one of vigild's own processes (protected_pids.hpp): no worker or client can send
// to it, and it ignores any message of the daemon's kinds that lacks the daemon's private key
// (`daemon_state::hub_key`), so even a process that forwards what it is told to cannot forge
// one. A sentinel process and the hub monitor each other: if either dies, vigild logs what
// died and why and stops its tree with exit code 111, rather than run on without events,
// restart counts or a watch on the root (docs/vigild.md, "Exit codes").

#include "vigil/runtime/context.hpp"
#include "vigil/supervision/supervisor.hpp"

#include <cstdint>

namespace vigil::os {
class service;
} // namespace vigil::os

namespace vigil::daemon {

class daemon_state;

/// Spawns the hub; `st` must outlive it.
[[nodiscard]] pid start_event_hub(daemon_state& st);

/// `inner`, telling `st.hub` about every child it starts (with its OS pid, read from `os` at
/// once, so that a child that dies at once is still reported with it).
[[nodiscard]] supervision::child_factory watch_starts(supervision::child_factory inner,
                                                      const daemon_state& st,
                                                      const os::service* os = nullptr);

/// Tells the hub that `root` is the root supervisor now. A null pid says a new root is on
/// its way (a reload replaces the tree): starts wait until it is announced.
void announce_root(const daemon_state& st, pid root);

/// Waits until the hub has reported the exit of every process of the tree it watched (all
/// of them dead: after a stop), or `limit`; false after `limit`. Run by a process of vigild's.
[[nodiscard]] task<bool> drain_events(context& self, const daemon_state& st, timeout limit);

/// Asks the hub to close connection `conn` when `session` dies.
void watch_session(const daemon_state& st, pid session, std::uint64_t conn);

} // namespace vigil::daemon
