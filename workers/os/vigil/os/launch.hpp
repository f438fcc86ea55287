// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Starting one OS child: a small launcher on clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD),
/// the way glibc's posix_spawn works, plus what posix_spawn cannot do (credentials, rlimits,
/// the parent-death signal, umask). See docs/os-workers.md, "Spawning".
///
/// Everything that may allocate, take a lock or consult NSS (PATH search, user and group
/// names, argv and envp arrays) happens in the parent before the clone; the child only makes
/// raw system calls and reports a failure as {step, errno} through a close-on-exec pipe, so
/// `launch` returns exec errors (ENOENT, EACCES, ...) synchronously. Under ThreadSanitizer the
/// launcher uses fork() instead, which TSan understands.
namespace vigil::os {

/// A resource limit to set in the child (setrlimit).
struct rlimit_setting {
  int resource = 0; ///< RLIMIT_NOFILE, RLIMIT_CORE, ...
  rlim_t soft = RLIM_INFINITY;
  rlim_t hard = RLIM_INFINITY;
};

/// Credentials for the child, already resolved from names (see credentials.hpp).
struct credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups; ///< supplementary groups
};

/// What to run and how.
struct launch_spec {
  /// The program: a path with a '/' (relative ones resolve against `cwd`), or a name looked
  /// up in the PATH of `env` (or vigild's, or /usr/local/bin:/usr/bin:/bin).
  std::string program;
  /// argv, argv[0] included.
  std::vector<std::string> argv;
  /// The whole environment, as "KEY=value" strings.
  std::vector<std::string> env;
  std::string cwd;                    ///< empty: the parent's
  std::optional<std::uint32_t> umask; ///< unset: the parent's
  std::optional<credentials> creds;   ///< unset: the parent's
  std::vector<rlimit_setting> rlimits;
  /// Descriptors the child gets, as fds[i] -> descriptor i: fds[0..2] are stdin, stdout,
  /// stderr and fds[3...] extra ones (the channel's segment). Every other descriptor is
  /// closed at exec. A -1 entry becomes /dev/null (for 0..2 only).
  std::vector<int> fds;
  /// setsid(): the child leads a new session and process group (pgid == pid).
  bool new_session = true;
  /// PR_SET_PDEATHSIG: the signal the child gets when the thread that spawned it ends.
  int parent_death_signal = 9; // SIGKILL
  /// Run the program only if no one but root can change it (vigil/common/file_trust.hpp),
  /// by its canonical path; vigild sets this as root unless started with --insecure-paths.
  bool trusted_program_only = false;
  /// A cgroup directory (cgroup.hpp) the child starts in: clone3 with CLONE_INTO_CGROUP, or,
  /// where the kernel refuses that, the child's first step writes itself into its
  /// cgroup.procs. -1: the parent's cgroup.
  int cgroup_fd = -1;
  /// Hybrid hosts: cgroup.procs of the child's directories in cgroup v1 hierarchies (memory,
  /// pids, cpu), which the child writes itself into before exec (clone3 cannot place it
  /// there).
  std::vector<int> v1_cgroup_procs;
};

/// A running child. The pidfd keeps naming this process after its pid is reused.
struct launched {
  pid_t pid = 0;
  unique_fd pidfd;
};

/// Where a launch failed, for the error text.
enum class launch_step : std::uint8_t {
  prepare,
  cgroup,
  setsid,
  fds,
  umask,
  chdir,
  rlimit,
  groups,
  setgid,
  setuid,
  pdeathsig,
  exec,
};

/// The RLIMIT_ constant for a limit's config name ("nofile" is RLIMIT_NOFILE: setrlimit's name
/// without RLIMIT_, in lower case), or nullopt for an unknown name.
[[nodiscard]] std::optional<int> rlimit_resource(std::string_view name);

/// What a search of `path` (PATH's syntax) for `program` (a name without '/') found.
struct path_search {
  std::string found;          ///< the first regular, executable candidate; empty if none
  std::string not_executable; ///< else the first regular candidate that is not executable
  mode_t not_executable_mode = 0;
};

/// Searches `path` for `program` as execvp would: the first regular, executable file wins.
[[nodiscard]] path_search search_path(const std::string& program, const std::string& path);

/// Resolves `program` as execvp would, against the PATH in `env` (else the parent's). Returns
/// the path to execute. Errors: not_found (with the PATH searched), or the errno of the last
/// candidate that exists but is not executable.
[[nodiscard]] result<std::string> resolve_program(const std::string& program,
                                                  const std::vector<std::string>& env);

/// Starts the child. On success the child has passed every step up to a successful execve.
/// Errors name the step and the program, e.g. "exec /bin/nope: No such file or directory";
/// the code is the errno. A failed child is reaped before this returns.
///
/// The caller must hold `launch_guard` (reaper.hpp) from before this call until it has
/// registered the child, so that an orphan reaper never collects it.
[[nodiscard]] result<launched> launch(const launch_spec& spec);

/// False once clone3 with CLONE_INTO_CGROUP has been refused (old kernel, seccomp): children
/// then move themselves into their cgroup before exec.
[[nodiscard]] bool clone_into_cgroup_works();

} // namespace vigil::os
