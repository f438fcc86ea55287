// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/socket_path.hpp"

#include "vigil/common/assert.hpp"
#include "vigil/protocol/socket_location.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>
#include <utility>

namespace vigil::ctl {
namespace {

std::optional<std::string> env_var(const char* name) {
  // vigilctl is single-threaded: nothing can change the environment under getenv.
  const char* value = std::getenv(name); // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

bool usable(const std::optional<std::string>& value) {
  return value.has_value() && !value->empty();
}

} // namespace

socket_env socket_env_from_process(std::optional<std::string> flag) {
  socket_env env;
  env.flag = std::move(flag);
  env.vigil_socket = env_var("VIGIL_SOCKET");
  env.runtime_directory = env_var("RUNTIME_DIRECTORY");
  env.xdg_runtime_dir = env_var("XDG_RUNTIME_DIR");
  env.is_root = ::geteuid() == 0;
  return env;
}

std::vector<std::string> socket_candidates(const socket_env& env) {
  if (usable(env.flag)) {
    return {*env.flag};
  }
  if (usable(env.vigil_socket)) {
    return {*env.vigil_socket};
  }
  auto rule = protocol::default_socket(env.runtime_directory, env.xdg_runtime_dir, env.is_root);
  if (rule.source != protocol::socket_source::user) {
    return {std::move(rule.path)};
  }
  // A user's own daemon first, then the system's.
  return {std::move(rule.path), std::string(protocol::system_socket_path)};
}

std::string choose_socket(const std::vector<std::string>& candidates,
                          const std::function<bool(const std::string&)>& exists) {
  VIGIL_ASSERT(!candidates.empty());
  for (const std::string& path : candidates) {
    if (exists(path)) {
      return path;
    }
  }
  return candidates.front();
}

std::string resolve_socket(const socket_env& env) {
  return choose_socket(socket_candidates(env), [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  });
}

} // namespace vigil::ctl
