// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

/// A cgroup (v2) per OS child, under a base directory delegated to vigild. See
/// docs/os-workers.md, "cgroups". The layout:
///
///     <base>/vigild/        vigild itself (the no-internal-process rule)
///     <base>/<id>-<node>/   one OS child and everything it starts
///
/// The base is vigild's own cgroup when systemd started it (Delegate=yes) or when it is a
/// container's PID 1; elsewhere `vigil-<pid>` under the cgroup2 mount, created here and
/// removed at exit; or a configured path.
namespace vigil::os {

/// The `[daemon] cgroup` setting: "auto", "off" or an absolute path.
struct cgroup_config {
  std::string mode = "off";
  /// Called once for each thing worth saying (no cgroup2, no delegation, ...).
  std::function<void(const std::string&)> on_warning;
  std::function<void(const std::string&)> on_info;
};

/// One child's cgroup: its path and a directory descriptor (for CLONE_INTO_CGROUP).
struct child_cgroup {
  std::string path;
  unique_fd dir;
};

/// The base and the children's cgroups under it. Thread-safe.
class cgroup_tree {
public:
  /// Sets up the base as `config` says; nullptr when cgroups are off or not usable (after
  /// saying why through `on_warning`).
  [[nodiscard]] static std::shared_ptr<cgroup_tree> open(const cgroup_config& config);

  cgroup_tree(const cgroup_tree&) = delete;
  cgroup_tree& operator=(const cgroup_tree&) = delete;
  /// Kills what is left in the children's cgroups, removes them and, when this tree made
  /// the base, moves vigild back where it was and removes the base.
  ~cgroup_tree();

  [[nodiscard]] const std::string& base() const { return base_; }

  /// Creates (or empties and reuses) `<base>/<name>`; `name` is made safe here.
  [[nodiscard]] result<child_cgroup> make(const std::string& name) const;

  /// Removes a child's cgroup once it is empty; false if it is not (yet).
  static bool remove(const std::string& path);

  /// Kills every process in the cgroup behind `dir` (cgroup.kill, else SIGKILL to each pid of
  /// cgroup.procs). True when something was signalled or the cgroup is already empty.
  static bool kill_all(int dir);

  /// Whether the cgroup behind `dir` still holds a process (cgroup.events "populated").
  [[nodiscard]] static bool populated(int dir);

  /// Reads "populated" from an open cgroup.events descriptor (pread at 0).
  [[nodiscard]] static std::optional<bool> read_populated(int events_fd);

  /// The cgroup2 mount point from /proc/self/mountinfo, or empty.
  [[nodiscard]] static std::string find_mount();

  /// This process's cgroup2 path (the "0::" line of /proc/self/cgroup), or nullopt.
  [[nodiscard]] static std::optional<std::string> own_path();

  /// The pids in a cgroup directory (its cgroup.procs).
  [[nodiscard]] static std::vector<int> procs(const std::string& path);

private:
  cgroup_tree() = default;
  void clean_stale() const;  ///< the children's cgroups under base_
  void clean_others() const; ///< bases of vigilds that are gone

  std::string mount_;
  std::string base_;
  std::string old_cgroup_; ///< where vigild was, to go back to when base_ is removed
  bool own_base_ = false;  ///< made here: removed at exit
  std::function<void(const std::string&)> warn_;
};

} // namespace vigil::os
