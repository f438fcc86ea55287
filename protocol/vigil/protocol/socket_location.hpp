// SPDX-License-Identifier: Apache-2.0
#pragma once

// Where the control socket is when nobody says (docs/protocol.md): vigild listens there, and
// vigilctl looks there first. One rule for both, so that they cannot drift apart.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol {

/// The system daemon's socket.
inline constexpr std::string_view system_socket_path = "/run/vigil/control.sock";

/// What chose the default socket.
enum class socket_source : std::uint8_t {
  runtime_directory, ///< systemd's $RUNTIME_DIRECTORY: the daemon's own directory
  system,            ///< root, or no $XDG_RUNTIME_DIR: /run/vigil/control.sock
  user,              ///< a user's own daemon under $XDG_RUNTIME_DIR
};

struct socket_location {
  std::string path;
  socket_source source = socket_source::system;
};

/// $RUNTIME_DIRECTORY/control.sock (its first entry: systemd lists several colon-separated),
/// else /run/vigil/control.sock as root, else $XDG_RUNTIME_DIR/vigil/control.sock, else
/// /run/vigil/control.sock. Empty values count as unset.
[[nodiscard]] socket_location default_socket(const std::optional<std::string>& runtime_directory,
                                             const std::optional<std::string>& xdg_runtime_dir,
                                             bool is_root);

} // namespace vigil::protocol
