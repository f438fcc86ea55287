// SPDX-License-Identifier: Apache-2.0
#pragma once

// A supervisor is a process (OTP's supervisor, semantics 21-23): it traps exits, starts its
// children in order, restarts them by strategy and restart type within its intensity, and
// escalates by exiting with :shutdown. Its decisions are `supervisor_core`'s; this process
// only carries them out. See docs/supervision.md.

#include "vigil/common/result.hpp"
#include "vigil/runtime/context.hpp"
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/core.hpp"
#include "vigil/supervision/spec.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace vigil::supervision {

/// Starts one child for a supervisor: spawns it linked to `supervisor` (spawn_link, so the
/// supervisor sees its exit) and returns its pid, or an error naming why it could not start.
/// The daemon's factory maps a spec's kind/mode/command to a process; tests pass their own.
/// Nested supervisors (type == supervisor) are started by the supervision code itself.
///
/// The factory runs inside the supervisor process, which waits for it: it must not block.
/// A child that should be registered (`registered_name(spec)`) registers its new pid each
/// time it starts, so its name follows it across restarts.
using child_factory = std::function<result<pid>(context& supervisor, const child_spec& spec)>;

/// Told what happened to each child of a tree (child_event, core.hpp), in the supervisor
/// process, before that supervisor acts on its next message: an exit is told before the
/// supervisor can exit itself. Supervisors run on any scheduler thread, several at once, so
/// a sink shared by a tree must be thread-safe; it must not block (the supervisor waits).
using event_sink = std::function<void(const child_event&)>;

/// How a supervisor is started.
struct start_options {
  /// Link the supervisor to the caller, its parent (OTP's start_link). The parent's exit
  /// (any reason, :normal too) stops the tree with that reason; the parent, if it traps
  /// exits, sees the supervisor's exit as {:EXIT, sup, reason}. Without a link the
  /// supervisor is a root: stop it with `stop_supervisor`.
  bool link = true;
  /// Register the supervisor under this name.
  std::optional<atom> name;
  /// Where the events of this supervisor and of every supervisor nested in it go; none if
  /// empty.
  event_sink events;
  /// The supervisor's path in its events ("root" if null); a nested supervisor's is this +
  /// "/" + its id. Shared, not a std::string: GCC 12 copies the temporaries of a co_await
  /// expression into the coroutine frame bitwise (a defaulted start_options among them),
  /// which leaves a short string's buffer behind.
  std::shared_ptr<const std::string> path;
};

/// Starts a supervisor from a process and returns once every child started, in order, or
/// the error of the first that failed ("failed to start child 'id': ...", its
/// children already stopped). An invalid spec fails before anything starts
/// (errc::config_invalid), a taken name with errc::already_exists. A supervisor that fails
/// to start unlinks from its parent before it exits, so the caller only sees the error.
[[nodiscard]] task<result<pid>> start_supervisor(context& self, supervisor_spec spec,
                                                 child_factory factory, start_options options = {});

/// The same from a thread that is not a process (main, the control thread), through its
/// mailbox, which becomes the parent if `options.link`. Blocks until the start ends.
[[nodiscard]] result<pid> start_supervisor(mailbox& caller, supervisor_spec spec,
                                           child_factory factory, start_options options = {});

/// The name under which a process gets supervisor reports, as OTP's supervisor reports go to
/// the logger: a supervisor that gives up (a restart over its intensity) sends
/// {:supervisor_report, supervisor, exit_reason} to it just before it exits, if a process is
/// registered so (vigild's event hub is). Nested supervisors report too, not only a root.
[[nodiscard]] atom report_name();

/// The body of a supervisor process, for those who spawn it themselves: `boot` says what
/// to supervise and whom to tell when the children have started.
struct supervisor_boot {
  std::shared_ptr<const supervisor_spec> spec;
  child_factory factory;
  pid starter; ///< gets {ack, :ok} or {ack, {:error, error_term}}
  reference ack;
  std::optional<pid> parent;               ///< linked at once; its EXIT stops the tree
  event_sink events;                       ///< see start_options
  std::shared_ptr<const std::string> path; ///< see start_options
};

task<> supervisor_process(context& self, supervisor_boot boot);

} // namespace vigil::supervision
