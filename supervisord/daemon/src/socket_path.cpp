// SPDX-License-Identifier: Apache-2.0
#include "vigil/daemon/socket_path.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace vigil::daemon {
namespace {

constexpr const char* system_socket = "/run/vigil/control.sock";

std::optional<std::string> env_var(const char* name) {
  const char* value = std::getenv(name); // NOLINT(concurrency-mt-unsafe): before threads
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

std::string errno_text(int e) {
  return std::error_code(e, std::generic_category()).message();
}

listen_error fail(std::string message, int code = 111) {
  return listen_error{code, std::move(message)};
}

bool fill_address(const std::string& path, sockaddr_un& addr) {
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

/// True when something accepts connections at `path`.
bool someone_listens(const sockaddr_un& addr) {
  unique_fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return probe
         && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

result<void, listen_error> prepare_directory(const std::string& path, const socket_mode& mode) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (dir.empty() || std::filesystem::exists(dir, ec)) {
    return {};
  }
  std::filesystem::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), mode.dir) != 0 && errno != EEXIST) {
    return fail("unable to create " + dir.string() + ": " + errno_text(errno));
  }
  // mkdir's mode passed through the umask: set it exactly.
  (void)::chmod(dir.c_str(), mode.dir);
  if (mode.group) {
    (void)::chown(dir.c_str(), static_cast<::uid_t>(-1), *mode.group);
  }
  return {};
}

result<void, listen_error> clear_stale(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};

  if (::lstat(path.c_str(), &st) != 0) {
    return {};
  }
  if (!S_ISSOCK(st.st_mode)) {
    return fail(path + " exists and is not a socket; remove it or choose another --socket", 100);
  }
  if (someone_listens(addr)) {
    return fail("another vigild is listening on " + path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return fail("unable to remove the stale socket " + path + ": " + errno_text(errno));
  }
  return {};
}

} // namespace

socket_env socket_env_from_process() {
  return socket_env{env_var("RUNTIME_DIRECTORY"), env_var("XDG_RUNTIME_DIR"), ::geteuid() == 0};
}

std::string default_socket_path(const socket_env& env) {
  if (env.runtime_directory) {
    std::string first = env.runtime_directory->substr(0, env.runtime_directory->find(':'));
    if (!first.empty()) {
      return first + "/control.sock";
    }
  }
  if (env.is_root || !env.xdg_runtime_dir) {
    return system_socket;
  }
  return *env.xdg_runtime_dir + "/vigil/control.sock";
}

socket_mode socket_mode_for(const access_policy& policy) {
  if (!policy.uids.empty() || policy.gids.size() > 1) {
    return socket_mode{0666, 0755, std::nullopt};
  }
  if (policy.gids.size() == 1) {
    return socket_mode{0660, 0750, policy.gids.front()};
  }
  return socket_mode{0600, 0750, std::nullopt};
}

result<unique_fd, listen_error> listen_control_socket(const std::string& path,
                                                      const socket_mode& mode) {
  sockaddr_un addr{};
  if (!fill_address(path, addr)) {
    return fail("socket path too long (at most 107 bytes): " + path, 100);
  }
  if (auto dir = prepare_directory(path, mode); !dir) {
    return dir.error();
  }
  if (auto stale = clear_stale(path, addr); !stale) {
    return stale.error();
  }
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return fail("unable to create a socket: " + errno_text(errno));
  }
  // Bind under a umask that leaves no window in which the socket is more open than `mode`.
  ::mode_t old_mask = ::umask(0777 & ~mode.file);
  int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) {
    return fail("unable to bind " + path + ": " + errno_text(bind_errno));
  }
  if (mode.group) {
    (void)::chown(path.c_str(), static_cast<::uid_t>(-1), *mode.group);
  }
  (void)::chmod(path.c_str(), mode.file);
  if (::listen(fd.get(), 128) != 0) {
    return fail("unable to listen on " + path + ": " + errno_text(errno));
  }
  return fd;
}

} // namespace vigil::daemon
