// SPDX-License-Identifier: Apache-2.0
// The control socket's path and listener: the default path from the environment, the
// directory created and checked so nobody else can replace the socket, and the socket bound,
// unless another vigild already listens there.
#include "vigil/daemon/socket_path.hpp"

#include "vigil/common/file_trust.hpp"
#include "vigil/protocol/socket_location.hpp"

#include <fcntl.h>
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

/// The socket's directory, created when missing (owned by the daemon's uid, `mode.dir`, the
/// group of `mode`) and checked, open: a directory that others own or may write, or that
/// sits below one, could let them replace the socket, or redirect what vigild does there.
result<unique_fd, listen_error> prepare_directory(const std::string& path,
                                                  const socket_mode& mode) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) {
    dir = ".";
  }
  std::error_code ec;
  bool created = false;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    // 0700 until the mode and group are set on the descriptor below.
    if (::mkdir(dir.c_str(), 0700) == 0) {
      created = true;
    } else if (errno != EEXIST) {
      return fail("unable to create " + dir.string() + ": " + errno_text(errno));
    }
  }
  ::uid_t self = ::geteuid();
  if (auto chain = trusted_path(dir.string(), self); !chain) {
    return fail("refusing the socket directory " + dir.string() + ": " + chain.error().message
                    + " (another user could replace the socket)",
                100);
  }
  auto fd = open_trusted_dir(dir.string(), self);
  if (!fd) {
    return fail("refusing the socket directory: " + fd.error().message, 100);
  }

  struct stat st {};

  if (::fstat(fd->get(), &st) != 0) {
    return fail("unable to stat " + dir.string() + ": " + errno_text(errno));
  }
  if (st.st_uid != self) {
    return fail("refusing the socket directory " + dir.string() + ": it is owned by uid "
                    + std::to_string(st.st_uid) + ", not by vigild's uid " + std::to_string(self),
                100);
  }
  if (created) {
    if (mode.group && ::fchown(fd->get(), static_cast<::uid_t>(-1), *mode.group) != 0) {
      return fail("unable to give " + dir.string() + " to gid " + std::to_string(*mode.group) + ": "
                  + errno_text(errno));
    }
    if (::fchmod(fd->get(), mode.dir) != 0) {
      return fail("unable to set the mode of " + dir.string() + ": " + errno_text(errno));
    }
  }
  return std::move(*fd);
}

/// The socket's name inside its directory.
std::string base_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

result<void, listen_error> clear_stale(int dir_fd, const std::string& path,
                                       const sockaddr_un& addr) {
  struct stat st {};

  std::string name = base_name(path);
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return {};
  }
  if (!S_ISSOCK(st.st_mode)) {
    return fail(path + " exists and is not a socket; remove it or choose another --socket", 100);
  }
  if (someone_listens(addr)) {
    return fail("another vigild is listening on " + path);
  }
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return fail("unable to remove the stale socket " + path + ": " + errno_text(errno));
  }
  return {};
}

} // namespace

socket_env socket_env_from_process() {
  return socket_env{env_var("RUNTIME_DIRECTORY"), env_var("XDG_RUNTIME_DIR"), ::geteuid() == 0};
}

std::string default_socket_path(const socket_env& env) {
  return protocol::default_socket(env.runtime_directory, env.xdg_runtime_dir, env.is_root).path;
}

socket_mode socket_mode_for(const access_policy& policy) {
  if (!policy.uids.empty() || policy.gids.size() > 1) {
    return socket_mode{0666, 0755, std::nullopt};
  }
  if (policy.gids.size() == 1) {
    return socket_mode{0660, 0750, policy.gids.front()};
  }
  return socket_mode{0600, 0700, std::nullopt};
}

result<unique_fd, listen_error> listen_control_socket(const std::string& path,
                                                      const socket_mode& mode) {
  sockaddr_un addr{};
  if (!fill_address(path, addr)) {
    return fail("socket path too long (at most 107 bytes): " + path, 100);
  }
  auto dir = prepare_directory(path, mode);
  if (!dir) {
    return dir.error();
  }
  if (auto stale = clear_stale(dir->get(), path, addr); !stale) {
    return stale.error();
  }
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return fail("unable to create a socket: " + errno_text(errno));
  }
  // The mode comes from the umask at bind, exactly: it is never set by path afterwards,
  // where a path could be made to lead elsewhere.
  ::mode_t old_mask = ::umask(0777 & ~mode.file);
  int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) {
    return fail("unable to bind " + path + ": " + errno_text(bind_errno));
  }
  // The group, relative to the checked directory and without following a symlink.
  if (mode.group
      && ::fchownat(dir->get(), base_name(path).c_str(), static_cast<::uid_t>(-1), *mode.group,
                    AT_SYMLINK_NOFOLLOW)
             != 0) {
    return fail("unable to give " + path + " to gid " + std::to_string(*mode.group) + ": "
                + errno_text(errno));
  }
  if (::listen(fd.get(), 128) != 0) {
    return fail("unable to listen on " + path + ": " + errno_text(errno));
  }
  return fd;
}

} // namespace vigil::daemon
