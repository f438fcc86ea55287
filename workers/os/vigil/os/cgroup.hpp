// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"
#include "vigil/supervision/spec.hpp"

#include <cstdint>
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
  /// pids.max of each child without a `limits.pids` of its own (`daemon.default_pids`):
  /// this many tasks, else `default_pids_percent` (1 to 100) of tasks_ceiling(); neither:
  /// none.
  std::optional<std::uint64_t> default_pids;
  std::uint32_t default_pids_percent = 0;
  /// Whether a default that cannot be applied (no pids controller) is worth a warning: it
  /// was configured, rather than systemd's 15 % left in place.
  bool warn_default_pids = false;
  /// Called once for each thing worth saying (no cgroup2, no delegation, ...).
  std::function<void(const std::string&)> on_warning;
  std::function<void(const std::string&)> on_info;
};

/// A child's directories in cgroup v1 hierarchies, on a hybrid host whose v2 hierarchy lacks
/// the controllers (docs/os-workers.md, "Limits"); empty where not used.
struct cgroup_v1_dirs {
  std::string memory;
  std::string pids;
  std::string cpu;
};

/// One child's cgroup: its path and a directory descriptor (for CLONE_INTO_CGROUP).
struct child_cgroup {
  std::string path;
  unique_fd dir;
  cgroup_v1_dirs v1;
  /// cgroup.procs of each v1 directory: the child writes itself into them before exec.
  std::vector<unique_fd> v1_procs;
  /// The limits that could not be set, each with why ("memory: no memory controller ...").
  std::vector<std::string> refused;
};

/// What a child's cgroup says it uses; nullopt where no controller counts it.
struct cgroup_usage {
  std::optional<std::uint64_t> memory_bytes; ///< memory.current (v1: memory.usage_in_bytes)
  std::optional<std::uint64_t> cpu_usec;     ///< cpu.stat usage_usec
  std::optional<std::uint64_t> pids;         ///< pids.current
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

  /// The pids.max a child without `limits.pids` gets, nullopt where there is none or no
  /// pids controller to hold it.
  [[nodiscard]] std::optional<std::uint64_t> default_pids() const { return default_pids_; }

  /// The most tasks the children can have together, which a percentage in
  /// `daemon.default_pids` is of: the least of kernel.pid_max, kernel.threads-max and the
  /// pids.max of the children's parent cgroup and those above it, in the hierarchy that
  /// holds their pids limits (a systemd unit's TasksMax=, a container's limit), as systemd
  /// reckons DefaultTasksMax= against the root's (cgroup_limits.cpp).
  [[nodiscard]] std::uint64_t tasks_ceiling() const;

  /// Creates (or empties and reuses) `<base>/<name>`; `name` is made safe here. For a limit
  /// whose controller is only in v1 (a hybrid host), also the child's directory there;
  /// `limits` (with default_pids() when they have no pids) are written before the child
  /// starts, those that cannot be are listed in `refused` (cgroup_limits.cpp).
  [[nodiscard]] result<child_cgroup> make(const std::string& name,
                                          const supervision::cgroup_limits& limits = {}) const;

  /// What the cgroup counts: memory, CPU time and processes (cgroup_limits.cpp).
  [[nodiscard]] static cgroup_usage usage(const std::string& path, const cgroup_v1_dirs& v1);

  /// OOM kills in the cgroup since it was made: memory.events (v2) or memory.oom_control
  /// (v1) `oom_kill`.
  [[nodiscard]] static std::uint64_t oom_kills(const std::string& path, const cgroup_v1_dirs& v1);

  /// Removes a child's v1 directories (once empty, as its v2 cgroup is).
  static void remove_v1(const cgroup_v1_dirs& v1);

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

  /// Finds the controllers the children can use: enabled in the base's subtree_control (v2)
  /// or, failing that, a vigil-<pid> directory of vigild's own in their v1 hierarchy.
  void find_controllers();
  void clean_v1() const; ///< v1 directories: the children's and bases of vigilds gone
  /// The v1 directories of child `name` and the limits written into its cgroups.
  void place(child_cgroup& c, const std::string& name,
             const supervision::cgroup_limits& limits) const;

  /// Controllers by name: memory, pids, cpu.
  struct controller {
    const char* name;
    bool v2 = false;
    std::string v1_base; ///< <v1 mount><vigild's cgroup>/vigil-<pid>, or empty
    std::string missing; ///< why neither, for the warning
  };

  controller memory_{"memory"};
  controller pids_{"pids"};
  controller cpu_{"cpu"};

  /// The default's controller found, or the default dropped (and why said) when there is none.
  void settle_default_pids(const cgroup_config& config);

  std::string mount_;
  std::string base_;
  std::optional<std::uint64_t> default_pids_;
  std::string old_cgroup_; ///< where vigild was, to go back to when base_ is removed
  bool own_base_ = false;  ///< made here: removed at exit
  std::function<void(const std::string&)> warn_;
};

} // namespace vigil::os
