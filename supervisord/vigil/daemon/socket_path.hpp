// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"
#include "vigil/daemon/auth.hpp"

#include <sys/types.h>

#include <optional>
#include <string>

namespace vigil::daemon {

/// What the default socket path depends on.
struct socket_env {
  std::optional<std::string> runtime_directory; ///< $RUNTIME_DIRECTORY (systemd)
  std::optional<std::string> xdg_runtime_dir;   ///< $XDG_RUNTIME_DIR
  bool is_root = false;
};

[[nodiscard]] socket_env socket_env_from_process();

/// The protocol's rule (vigil/protocol/socket_location.hpp, shared with vigilctl):
/// $RUNTIME_DIRECTORY/control.sock (its first entry), else /run/vigil/control.sock as root,
/// else $XDG_RUNTIME_DIR/vigil/control.sock, else /run/vigil/control.sock.
[[nodiscard]] std::string default_socket_path(const socket_env& env);

/// Permissions of the socket and of the directory vigild creates for it.
struct socket_mode {
  ::mode_t file = 0600;
  ::mode_t dir = 0700;
  /// Group owner for both, so the members of the one allowed group can connect.
  std::optional<::gid_t> group;
};

/// The modes for `policy`: 0600 in a 0700 directory when only root and the daemon's user
/// may connect; 0660 with the group set when one group is allowed; 0666 in a 0755 directory
/// when other users or several groups are (SO_PEERCRED then decides, per connection).
[[nodiscard]] socket_mode socket_mode_for(const access_policy& policy);

/// Why the socket could not be set up, and vigild's exit code for it (111: temporary).
struct listen_error {
  int exit_code = 111;
  std::string message;
};

/// Creates the socket's directory if needed (owned by the daemon's uid, `mode.dir`), refuses
/// one that another uid owns or others may write, or that sits below such a directory,
/// removes a stale socket file (one nobody listens on), binds under a umask that gives the
/// socket `mode.file`, and listens. Another vigild listening there is an error.
[[nodiscard]] result<unique_fd, listen_error> listen_control_socket(const std::string& path,
                                                                    const socket_mode& mode);

} // namespace vigil::daemon
