// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vigil::ctl {

/// Everything that decides where vigilctl looks for the control socket. Empty strings count
/// as unset.
struct socket_env {
  std::optional<std::string> flag;              ///< `--socket PATH`
  std::optional<std::string> vigil_socket;      ///< `$VIGIL_SOCKET`
  std::optional<std::string> runtime_directory; ///< `$RUNTIME_DIRECTORY` (set by systemd)
  std::optional<std::string> xdg_runtime_dir;   ///< `$XDG_RUNTIME_DIR`
  bool is_root = false;                         ///< effective uid 0
};

/// The environment of this process, with `flag` as given on the command line.
[[nodiscard]] socket_env socket_env_from_process(std::optional<std::string> flag);

/// The paths to try, best first; never empty. `--socket`, else `$VIGIL_SOCKET`, is the only
/// candidate when given. Otherwise the daemon's own rule (docs/protocol.md):
/// `$RUNTIME_DIRECTORY/control.sock` (the first directory when systemd lists several,
/// colon-separated), else `/run/vigil/control.sock` as root, else
/// `$XDG_RUNTIME_DIR/vigil/control.sock` followed by `/run/vigil/control.sock`, so that a
/// user allowed to talk to the system daemon reaches it without `--socket`.
[[nodiscard]] std::vector<std::string> socket_candidates(const socket_env& env);

/// The first of `candidates` for which `exists` holds, else the first one (so that the
/// error names the path the user most likely meant). `candidates` must not be empty.
[[nodiscard]] std::string choose_socket(const std::vector<std::string>& candidates,
                                        const std::function<bool(const std::string&)>& exists);

/// `choose_socket(socket_candidates(env), <the path exists>)`.
[[nodiscard]] std::string resolve_socket(const socket_env& env);

} // namespace vigil::ctl
