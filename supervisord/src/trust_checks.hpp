// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/config/config.hpp"

#include <string>
#include <vector>

namespace vigil::daemon {

/// As root, with strict modes (no --insecure-paths): one line for each file the tree would
/// make root load or run that someone other than root could change, itself or through a
/// directory on its way from / (vigil/common/file_trust.hpp): a plugin, a command's program
/// (found in PATH as the launch finds it), the vigil-worker of `mode = "process"` children.
/// Empty when every file is trusted, when not root, or when `strict_modes` is false. The
/// config file itself is checked as it is read (config::load_config); the launch checks each
/// program again (os::launch_spec::trusted_program_only).
[[nodiscard]] std::vector<std::string> untrusted_files(const config::config_tree& tree,
                                                       const std::string& worker_program,
                                                       bool strict_modes);

} // namespace vigil::daemon
