// SPDX-License-Identifier: Apache-2.0
#pragma once

// A reload is a diff: the running tree and the new one give a plan, and only the children the
// plan names are touched. The plan is pure data: `vigild --dry-run` prints it, the daemon
// executes its steps.
//
// How a change is classified:
// - what runs changed (type, kind, args, mode, command, env, cwd, umask, user, group,
//   stop_signal): the child restarts;
// - only how it is supervised changed (restart, shutdown, significant, backoff, and a
//   supervisor's strategy, intensity, period, auto_shutdown, max_children): the new spec
//   replaces the old in place and the process keeps running ("update"), as OTP's
//   code_change does with supervisor flags;
// - a supervisor that turns into or out of simple_one_for_one restarts (its children are
//   of another nature);
// - a config-driven restart honours the strategy, as a crash would: under one_for_all every
//   kept sibling restarts with it, under rest_for_one those after it. New and removed
//   children never restart their siblings.
// - a simple_one_for_one supervisor's template is updated, never restarted: its running
//   dynamic children keep the spec they were started with.

#include "vigil/config/config.hpp"
#include "vigil/supervision/spec.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::config {

/// What a reload does to one child.
enum class action : std::uint8_t {
  start,     ///< a new child, started at its place in start order
  stop,      ///< a removed child, stopped
  restart,   ///< stopped, then started from its new spec
  update,    ///< its new spec replaces the old one; the running process is left alone
  unchanged, ///< nothing to do
};

[[nodiscard]] std::string_view to_string(action a);

/// A child by the ids from the root supervisor down, {"jobs", "dispatcher"}; empty for the
/// root supervisor itself.
using child_path = std::vector<std::string>;

/// "root/jobs/dispatcher"; "root" for the empty path.
[[nodiscard]] std::string path_text(const child_path& path);

/// The verdict on one child, and why: "new child", "removed", "args, env changed",
/// "restarted with db (rest_for_one)", "intensity changed".
struct child_change {
  child_path path;
  action what = action::unchanged;
  std::string reason;
  friend bool operator==(const child_change&, const child_change&) = default;
};

/// One operation of a reload, in the order to perform them.
struct plan_step {
  enum class kind : std::uint8_t {
    stop,   ///< terminate the child and delete it from its supervisor
    start,  ///< add the child from the new tree and start it at its place
    update, ///< give the child (or supervisor) its new spec without restarting it
  };
  kind what = kind::update;
  child_path path;
  std::string reason;
  friend bool operator==(const plan_step&, const plan_step&) = default;
};

/// The whole plan. `changes` has one entry per child of either tree (a supervisor's own
/// update first, then its removed children, then its children in new order, each nested
/// supervisor's entries after its own). A child under a supervisor that restarts or stops
/// goes with it and has no entry. `steps` orders the work per supervisor: stops in reverse
/// start order, then starts and updates in start order, nested supervisors at their place.
struct reload_plan {
  std::vector<child_change> changes;
  std::vector<plan_step> steps;
  /// The `[daemon]` options whose value changed ("log_level", "plugins"), in table order;
  /// filled by the `config_tree` overload of `diff`. Each applies as its documentation says.
  std::vector<std::string> daemon_changes;

  /// True when the configs are equivalent: nothing to stop, start, update or re-apply.
  [[nodiscard]] bool empty() const noexcept { return steps.empty() && daemon_changes.empty(); }
};

/// The plan that turns the running tree `old` into `next`. Both must be validated trees
/// (unique ids among siblings). Ignores where specs were written.
[[nodiscard]] reload_plan diff(const supervision::supervisor_spec& old,
                               const supervision::supervisor_spec& next);

/// `diff(old.root, next.root)`, plus the changed `[daemon]` options.
[[nodiscard]] reload_plan diff(const config_tree& old, const config_tree& next);

/// The plan as `--dry-run` prints it: a summary line, one line per changed child, then the
/// steps, numbered.
[[nodiscard]] std::string describe(const reload_plan& plan);

/// The child at `path` in `root`, or nullptr; how the executor finds a start step's spec.
[[nodiscard]] const supervision::child_spec* find_child(const supervision::supervisor_spec& root,
                                                        const child_path& path);

} // namespace vigil::config
