// SPDX-License-Identifier: Apache-2.0
#pragma once

// A reload (SIGHUP or the `reload` command): read the config file again; if it does not
// validate, keep everything and report the errors; else compare it with the running config
// (config::diff) and carry out the plan on the running tree through the supervision API:
// removed children are terminated and deleted, new ones started with start_child at their
// place in the file's order (before the next sibling their supervisor has), changed ones
// stopped and started again from their new spec at their place (replace_child), updated
// ones given their new spec and flags without a restart (update_child, update_flags). A
// change of the root's strategy into or out of simple_one_for_one replaces the whole tree.
// Only one reload runs at a time.

#include "vigil/config/reload.hpp"
#include "vigil/runtime/context.hpp"

#include <string>
#include <vector>

namespace vigil::daemon {

class daemon_state;

struct reload_result {
  /// Another reload was running; nothing was done.
  bool busy = false;
  /// The file validated; otherwise `errors` holds them, one per line.
  bool loaded = false;
  std::string errors;
  config::reload_plan plan;
  /// The plan was carried out (not a dry run).
  bool applied = false;
  /// Steps that failed or could not be applied in place, one sentence each (the reply's
  /// `warnings`).
  std::vector<std::string> failures;
};

/// Reloads `st.config_path` from a process. With `dry_run`, only computes the plan.
[[nodiscard]] task<reload_result> reload_config(context& self, daemon_state& st, bool dry_run);

/// The plan as the protocol shows it: a JSON array of {path, action, reason}, one per child
/// that changes (unchanged ones are left out) and one per changed `[daemon]` option.
[[nodiscard]] std::string plan_json(const config::reload_plan& plan);

} // namespace vigil::daemon
