// SPDX-License-Identifier: Apache-2.0
#pragma once

// What root may trust on the file system: OpenSSH's StrictModes, in one place. A file that
// root reads or runs (the config, a plugin, a command's program, vigil-worker) must be owned
// by root and writable by no one else, and so must every directory on its way from /: whoever
// can write a directory can replace what is in it. One exception, which the kernel makes
// safe: a directory with the sticky bit (/tmp) may be writable by others when the entry on
// the path inside it is owned by root, since only root may then rename or remove that entry.
// docs/security.md, "Paths and files as root".

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

namespace vigil {

/// Why a file or directory is not to be trusted: a sentence that names it.
struct trust_problem {
  std::string message;
  /// The errno when the path itself could not be looked at (ENOENT...), else 0.
  int error_number = 0;
};

/// The canonical path of `path` (symlinks resolved, absolute) when it and every directory
/// above it are owned by `owner` or root and writable by no one else; otherwise a message
/// that names the component and why ("the directory /x is writable by its group (gid 1000,
/// mode 0775)"). Using the returned path afterwards is free of races with other users: no
/// component of it may be changed by anyone but root or `owner`.
[[nodiscard]] result<std::string, trust_problem> trusted_path(const std::string& path,
                                                              ::uid_t owner = 0);

/// The problem with a file or directory whose stat is `st`, for a component named `name`
/// ("the file /x/y.toml", "the directory /x"), or an empty string: not owned by `owner` or
/// root, or writable by group or others (`sticky_ok`: a sticky directory may be).
[[nodiscard]] std::string ownership_problem(const struct stat& st, const std::string& name,
                                            ::uid_t owner, bool sticky_ok = false);

/// Opens the directory `path` with O_DIRECTORY | O_NOFOLLOW (its last component must not be a
/// symlink) and checks the open directory: owned by `owner` or root and writable by no one
/// else. Files are then opened relative to the descriptor, with O_NOFOLLOW.
[[nodiscard]] result<unique_fd, trust_problem> open_trusted_dir(const std::string& path,
                                                                ::uid_t owner);

} // namespace vigil
