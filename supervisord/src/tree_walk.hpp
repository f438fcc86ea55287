// SPDX-License-Identifier: Apache-2.0
#pragma once

// The running tree as the control commands see it: each supervisor asked with
// which_children, nested supervisors through their parent's answer, and each child matched
// with its spec in the running config.

#include "vigil/common/result.hpp"
#include "vigil/config/config.hpp"
#include "vigil/runtime/context.hpp"
#include "vigil/supervision/core.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::daemon {

/// How long one which_children may take before the walk gives up on that supervisor.
inline constexpr timeout walk_call_timeout{5000};

/// One supervisor or child of the running tree.
struct tree_node {
  std::string path; ///< "root/jobs/dispatcher"
  std::string id;
  std::optional<pid> process;
  supervision::child_type type = supervision::child_type::worker;
  supervision::child_state state = supervision::child_state::stopped;
  /// A failed child's reason, and the time until its retry (see child_info).
  std::string reason;
  bool retry = false;
  supervision::milliseconds wait{0};
  /// Its spec in the config, when the config has one (nullptr for the root). Points into
  /// the config the walk was given.
  const supervision::child_spec* spec = nullptr;
  /// For a supervisor, its flags and children in the config.
  const supervision::supervisor_spec* sup_spec = nullptr;
  std::vector<tree_node> children;
};

/// Walks the tree under `root`. A nested supervisor that does not answer in time is listed
/// without children; a root that does not answer is an error.
[[nodiscard]] task<result<tree_node>> walk_tree(context& self, pid root,
                                                const config::config_tree& cfg);

/// A child found by name, with what it takes to act on it.
struct located {
  std::string path;
  std::string id;
  pid supervisor; ///< its parent
  const supervision::supervisor_spec* parent_spec = nullptr;
  const supervision::child_spec* spec = nullptr;
  /// Its row in the parent's which_children; empty when the config names it but the
  /// supervisor no longer holds it (a temporary child that ended).
  std::optional<supervision::child_info> info;

  /// True for a child of a simple_one_for_one supervisor.
  [[nodiscard]] bool dynamic() const {
    return parent_spec != nullptr && parent_spec->how == supervision::strategy::simple_one_for_one;
  }
};

/// Finds a child by path ("root/jobs/x", "jobs/x") or, for a bare id, anywhere in the tree;
/// an id found more than once is an error listing the paths. errc::not_found when nothing
/// matches.
[[nodiscard]] task<result<located>> locate(context& self, pid root, const config::config_tree& cfg,
                                           std::string name);

/// Finds the running child whose process is `p`.
[[nodiscard]] task<result<located>> locate_pid(context& self, pid root,
                                               const config::config_tree& cfg, pid p);

} // namespace vigil::daemon
