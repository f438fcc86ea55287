// SPDX-License-Identifier: Apache-2.0
#pragma once

// Children found by name or pid for the control commands: lookups in the index of the tree
// (tree_index.hpp), each child matched with its spec in the running config. No supervisor
// is asked.

#include "vigil/common/result.hpp"
#include "vigil/config/config.hpp"
#include "vigil/supervision/core.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::daemon {

class daemon_state;

/// A child found by name, with what it takes to act on it.
struct located {
  std::string path;
  std::string id;
  pid supervisor; ///< its parent
  const supervision::supervisor_spec* parent_spec = nullptr;
  const supervision::child_spec* spec = nullptr;
  /// Its row as its supervisor would list it; empty when the config names it but the
  /// supervisor no longer holds it (a temporary child that ended).
  std::optional<supervision::child_info> info;

  /// True for a child of a simple_one_for_one supervisor.
  [[nodiscard]] bool dynamic() const {
    return parent_spec != nullptr && parent_spec->how == supervision::strategy::simple_one_for_one;
  }
};

/// Finds a child by path ("root/jobs/x", "jobs/x") or, for a bare id, anywhere in the tree;
/// an id found more than once is an error listing the paths. errc::not_found when nothing
/// matches. The specs point into `cfg`.
[[nodiscard]] result<located> locate(const daemon_state& st, const config::config_tree& cfg,
                                     const std::string& name);

/// Finds the running child whose process is `p`.
[[nodiscard]] result<located> locate_pid(const daemon_state& st, const config::config_tree& cfg,
                                         pid p);

/// The pid of the running supervisor at `path` ("root", "root/jobs"), or nothing.
[[nodiscard]] std::optional<pid> running_supervisor(const daemon_state& st, std::string_view path);

/// The running config's spec of the child at `path`, sharing the config, if it is `started`
/// (for a dynamic child: its template, whatever its args); else a copy of `started`. The
/// index keeps one per child: 10,000 copies of a spec were 20 MB.
[[nodiscard]] std::shared_ptr<const supervision::child_spec>
spec_for(const daemon_state& st, const std::string& path, const supervision::child_spec& started,
         bool dynamic);

/// The config's spec of the supervisor at `path` ("root", "root/jobs"), or nullptr.
[[nodiscard]] const supervision::supervisor_spec* config_supervisor(const config::config_tree& cfg,
                                                                    std::string_view path);

} // namespace vigil::daemon
