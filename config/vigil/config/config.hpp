// SPDX-License-Identifier: Apache-2.0
#pragma once

// The config component turns vigil.toml into a validated tree of supervision specs.
//
// Every option is declared once, in the option table (options.hpp): its section, name, type,
// default, validator and documentation. The loader walks the TOML document against that
// table, so an unknown key, a value of the wrong type and a value the validator rejects are
// all reported the same way, as "file:line:col: option.path: expected ..., got ...". Cross-
// field rules (unique ids, significant children, kind xor command, ...) run once the whole
// tree is read. Every error found is reported, in file order, not just the first.
//
// The loader is pure apart from reading the file: it touches no process and no socket, so a
// caller that reloads keeps its running tree when the new file does not validate.

#include "vigil/common/result.hpp"
#include "vigil/supervision/spec.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::config {

/// How bad a problem is. An error makes the file invalid. A warning is a problem of the host
/// rather than of the file (a program not installed, a user not created yet): vigild starts
/// or reloads anyway and logs it, and the child concerned fails when it starts.
enum class severity : std::uint8_t { error, warning };

/// One problem in a config file: where it is, which option it concerns (as a TOML path,
/// "supervisor.children[2].restart"; empty for syntax and file errors), and what was expected.
struct config_error {
  supervision::source_location where;
  std::string option;
  std::string message;
  severity level = severity::error;

  /// "vigil.toml:12:11: supervisor.children[2].restart: expected one of permanent, transient,
  /// temporary, got \"sometimes\"". The line and column are left out when unknown (0). A
  /// warning reads "vigil.toml:12:11: warning: ...".
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const config_error&, const config_error&) = default;
};

/// Every problem found in one file, in file order (line, then column).
using config_error_list = std::vector<config_error>;

/// The errors one per line, each ending in '\n'.
[[nodiscard]] std::string to_string(const config_error_list& errors);

/// `daemon.default_pids`: the pids limit (systemd's TasksMax=) of each OS child without a
/// `limits.pids` of its own, as a number of tasks or a share of what they may have; systemd's
/// DefaultTasksMax= (docs/os-workers.md, "Limits").
struct pids_default {
  /// A number of tasks, from 1; 0: `percent` says.
  std::uint64_t tasks = 0;
  /// Percent (1 to 100) of the least of kernel.pid_max, kernel.threads-max and the pids.max
  /// of the children's parent cgroup and those above it (os::cgroup_tree::tasks_ceiling);
  /// 0 with `tasks` 0: no default.
  std::uint32_t percent = 15;

  friend bool operator==(const pids_default&, const pids_default&) = default;
};

/// The `[daemon]` table: settings of vigild itself rather than of the supervision tree.
struct daemon_options {
  /// The control socket; empty means the default of docs/design.md ($RUNTIME_DIRECTORY, /run/vigil
  /// as root, else $XDG_RUNTIME_DIR/vigil).
  std::string socket;
  /// One of trace, debug, info, warn, error, critical, off (spdlog's level names).
  std::string log_level = "info";
  /// Users and groups (names or numeric ids) allowed on the control socket, besides root and
  /// the daemon's own user.
  std::vector<std::string> allowed_users;
  std::vector<std::string> allowed_groups;
  /// Shared objects that register worker kinds, in load order. A relative path in the file is
  /// resolved against the config file's directory, so these are absolute when the file's
  /// path was.
  std::vector<std::string> plugins;
  /// Where the output of OS-process children is logged, one file per child; empty means the
  /// default of docs/os-workers.md ($STATE_DIRECTORY/logs, /var/lib/vigil/logs as root, else
  /// $XDG_STATE_HOME/vigil/logs).
  std::string log_dir;
  /// The most control connections one uid may hold; root and the daemon's uid are exempt.
  std::uint32_t max_connections_per_user = 64;
  /// A connection that sends no whole request line within this time is closed.
  std::chrono::milliseconds first_request_timeout{std::chrono::seconds(30)};
  /// A connection with replies waiting that reads nothing for this long is disconnected.
  std::chrono::milliseconds slow_reader_timeout{std::chrono::seconds(30)};
  /// Where OS children get a cgroup each: "auto", "off" or a cgroup2 directory
  /// (docs/os-workers.md, "cgroups").
  std::string cgroup = "auto";
  /// The pids limit of an OS child without `limits.pids`: 15 % by default.
  pids_default default_pids;

  friend bool operator==(const daemon_options&, const daemon_options&) = default;
};

/// The `[observer]` table: vigild's HTTP listener for the web observer and Prometheus
/// metrics (docs/observer.md). Off when `listen` is empty.
struct observer_options {
  /// An absolute Unix socket path, or "tcp://HOST:PORT" (an IPv4 or IPv6 literal).
  std::string listen;
  /// When set, each request must carry "Authorization: Bearer <token>". Required for a
  /// TCP address other than loopback.
  std::string token;
  /// /metrics lists each process whose mailbox holds at least this many messages.
  std::uint32_t mailbox_threshold = 1000;

  friend bool operator==(const observer_options&, const observer_options&) = default;
};

/// One `[[hook]]` table: what runs, off the tree, when one of the events `on` happens.
struct hook_spec {
  /// Event names: child_failed, child_restarted, supervisor_gave_up.
  std::vector<std::string> on;
  /// A program and its arguments, run with the event's JSON on stdin; or, instead,
  std::vector<std::string> command;
  /// a loopback http:// URL the event's JSON is POSTed to.
  std::string post;
  /// A hook still running after this is killed (a POST abandoned).
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  supervision::source_location where;

  friend bool operator==(const hook_spec&, const hook_spec&) = default;
};

/// A whole validated config: the daemon's settings and the root supervisor, named "root".
struct config_tree {
  daemon_options daemon;
  observer_options observer;
  std::vector<hook_spec> hooks;
  supervision::supervisor_spec root;
  /// The warnings the checks found (see `checks`), in file order.
  config_error_list warnings;

  /// Equal settings and trees; warnings do not count.
  friend bool operator==(const config_tree& a, const config_tree& b) {
    return a.daemon == b.daemon && a.observer == b.observer && a.hooks == b.hooks
           && a.root == b.root;
  }
};

/// One problem a worker kind finds with a child's arguments: the argument (empty for the
/// kind itself, or the `args` table as a whole) and what is wrong.
struct kind_problem {
  std::string arg;
  std::string message;
};

/// What a config is checked against beyond its own text (docs/config.md, "What
/// --check-config checks"): the worker kinds and the host. Each hook is optional; an unset
/// one skips its check. The loader calls them while it reads the file, so each problem is
/// reported at the option it concerns; the hooks themselves hold the worker registry and the
/// system calls, which keeps the config component free of both.
struct checks {
  /// Loads the plugin at `path` (absolute when the file's path was), in `daemon.plugins`
  /// order and before any kind is checked; returns why it did not load, or an empty string.
  std::function<std::string(const std::string& path)> load_plugin;
  /// The problems with worker kind `kind` and its arguments `args` (a map term). An unknown
  /// kind is one problem with an empty `arg`.
  std::function<std::vector<kind_problem>(const std::string& kind, const term& args)> check_kind;
  /// Why the program of a command child (`command[0]`) cannot run: not found in the PATH the
  /// child will get, not a regular file, not executable; or an empty string.
  std::function<std::string(const supervision::child_spec& child)> check_program;
  /// Why `user` (a name or numeric uid) cannot be used, or an empty string. `group_set`: the
  /// child sets `group` too (a uid without a passwd entry then needs none).
  std::function<std::string(const std::string& user, bool group_set)> check_user;
  /// Why `group` (a name or numeric gid) cannot be used, or an empty string.
  std::function<std::string(const std::string& group)> check_group;
  /// How the host's problems (check_program, check_user, check_group) count: warnings at
  /// boot and reload, errors for `vigild --check-config`. Kind and plugin problems are
  /// always errors.
  severity host_severity = severity::warning;
};

/// Reads and validates the config at `path`. Fails with every problem found; the caller keeps
/// whatever tree it was running. When the effective uid is 0 and `strict_modes` holds, a file
/// that root does not own, or that anyone but root may write, itself or through a directory
/// on its way from /, is refused (its writer could make root run anything through `command`;
/// docs/security.md).
[[nodiscard]] result<config_tree, config_error_list> load_config(const std::filesystem::path& path,
                                                                 bool strict_modes = true);

/// The same, with `with`'s checks on top. Fails when any error is found, with every problem
/// (the warnings too); else the tree holds the warnings.
[[nodiscard]] result<config_tree, config_error_list>
load_config(const std::filesystem::path& path, const checks& with, bool strict_modes = true);

/// Validates `text` as if read from a file named `file_name`, which errors quote and against
/// whose directory relative plugin paths are resolved. Checks no permissions.
[[nodiscard]] result<config_tree, config_error_list> load_config_string(std::string_view text,
                                                                        std::string_view file_name);

/// The same, with `with`'s checks on top (see load_config).
[[nodiscard]] result<config_tree, config_error_list>
load_config_string(std::string_view text, std::string_view file_name, const checks& with);

/// The refusal of a file root will not trust, for `problem` (file_trust.hpp): what every
/// such error says, with the way to relax the check.
[[nodiscard]] std::string refusal(const std::string& problem);

/// The validated tree as text, one line per supervisor or child, indented by depth, with every
/// effective value (defaults included) and where it was written: what `vigild --check-config`
/// prints.
[[nodiscard]] std::string describe(const supervision::supervisor_spec& root);

/// `describe(root)` preceded by the daemon settings.
[[nodiscard]] std::string describe(const config_tree& tree);

} // namespace vigil::config
