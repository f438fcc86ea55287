// SPDX-License-Identifier: Apache-2.0
#pragma once

// Parts of the supervisor process shared by its source files.

#include "vigil/supervision/core.hpp"
#include "vigil/supervision/supervisor.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil::supervision::detail {

/// Carries out a stop step: each child gets exit(child, :shutdown) (or :kill for
/// brutal_kill), then :kill once its shutdown timeout passed, and the step ends when every
/// child is dead. Watched through a monitor, not the link: a child that unlinked itself
/// must not hang its supervisor (OTP's "naughty child"). Returns each child's exit reason
/// (from its DOWN), in the order of `stop.targets`.
task<std::vector<term>> stop_children(context& self, stop_step stop);

/// An async stop under way (stop_step::async): the child got its exit signal, and gets
/// :kill at `kill_at` (none: brutal_kill, already killed, or shutdown infinity).
struct pending_stop {
  pid child;
  reference monitor;
  std::optional<std::chrono::steady_clock::time_point> kill_at;
};

/// Sends an async stop step's exit signals and monitors its children; the supervisor goes
/// back to its mailbox, where their DOWNs end the stops.
void begin_stop(context& self, const stop_step& stop, std::vector<pending_stop>& pending);
[[nodiscard]] bool is_pending_down(const term& m, const std::vector<pending_stop>& pending);
/// The pending stop `m` is the DOWN of, taken out of `pending`.
std::optional<pending_stop> take_down(const term& m, std::vector<pending_stop>& pending);
/// Sends :kill to the children whose shutdown timeout passed at `now`.
void kill_overdue(context& self, std::vector<pending_stop>& pending,
                  std::chrono::steady_clock::time_point now);
/// The next time `kill_overdue` has work.
std::optional<std::chrono::steady_clock::time_point>
next_kill(const std::vector<pending_stop>& pending);
/// Drops the link and the EXIT of a child that is dead (its DOWN came), which came before
/// its DOWN (semantics 6), so that the supervisor does not take it for a new exit.
task<> unlink_flush(context& self, pid child);

/// Starts a supervisor linked to `parent` (if any) and waits for its start to end. Its
/// events go to `events`, under `path`.
task<result<pid>> start_for(context& self, supervisor_spec spec, child_factory factory,
                            std::optional<pid> parent, std::optional<atom> name, event_sink events,
                            std::shared_ptr<const std::string> path);

} // namespace vigil::supervision::detail
