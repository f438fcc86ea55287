// SPDX-License-Identifier: Apache-2.0
#include "vigil/protocol/socket_location.hpp"

namespace vigil::protocol {

socket_location default_socket(const std::optional<std::string>& runtime_directory,
                               const std::optional<std::string>& xdg_runtime_dir, bool is_root) {
  if (runtime_directory) {
    std::string_view dirs = *runtime_directory;
    std::string_view first = dirs.substr(0, dirs.find(':'));
    if (!first.empty()) {
      return {std::string(first) + "/control.sock", socket_source::runtime_directory};
    }
  }
  if (is_root || !xdg_runtime_dir || xdg_runtime_dir->empty()) {
    return {std::string(system_socket_path), socket_source::system};
  }
  return {*xdg_runtime_dir + "/vigil/control.sock", socket_source::user};
}

} // namespace vigil::protocol
