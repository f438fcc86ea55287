// SPDX-License-Identifier: Apache-2.0
#include "vigil/daemon/auth.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>

namespace vigil::daemon {
namespace {

std::optional<std::uint32_t> numeric_id(const std::string& text) {
  std::uint32_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

std::optional<::uid_t> lookup_user(const std::string& name) {
  if (auto id = numeric_id(name)) {
    return static_cast<::uid_t>(*id);
  }

  struct passwd entry {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0
      || found == nullptr) {
    return std::nullopt;
  }
  return found->pw_uid;
}

std::optional<::gid_t> lookup_group(const std::string& name) {
  if (auto id = numeric_id(name)) {
    return static_cast<::gid_t>(*id);
  }

  struct group entry {};
  struct group* found = nullptr;
  std::vector<char> buffer(65536);
  if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0
      || found == nullptr) {
    return std::nullopt;
  }
  return found->gr_gid;
}

template <class T>
bool contains(const std::vector<T>& v, T x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

bool authorized(const peer_credentials& peer, const access_policy& policy) noexcept {
  if (peer.uid == 0 || peer.uid == policy.daemon_uid || contains(policy.uids, peer.uid)) {
    return true;
  }
  if (contains(policy.gids, peer.gid)) {
    return true;
  }
  return std::any_of(peer.groups.begin(), peer.groups.end(),
                     [&](::gid_t g) { return contains(policy.gids, g); });
}

resolved_policy resolve_policy(std::span<const std::string> users,
                               std::span<const std::string> groups, ::uid_t daemon_uid) {
  resolved_policy out;
  out.policy.daemon_uid = daemon_uid;
  for (const auto& name : users) {
    if (auto uid = lookup_user(name)) {
      out.policy.uids.push_back(*uid);
    } else {
      out.warnings.push_back("allowed_users: no user named '" + name + "'; left out");
    }
  }
  for (const auto& name : groups) {
    if (auto gid = lookup_group(name)) {
      out.policy.gids.push_back(*gid);
    } else {
      out.warnings.push_back("allowed_groups: no group named '" + name + "'; left out");
    }
  }
  return out;
}

result<peer_credentials> read_peer_credentials(int fd) {
  struct ucred cred {};

  ::socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return error{std::error_code(errno, std::generic_category()), "unable to read SO_PEERCRED"};
  }
  peer_credentials peer{cred.pid, cred.uid, cred.gid, {}};
  // SO_PEERGROUPS (Linux 4.13) reports the supplementary groups; without it only the
  // primary group counts.
  std::vector<::gid_t> groups(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    ::socklen_t bytes = static_cast<::socklen_t>(groups.size() * sizeof(::gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(::gid_t));
      peer.groups = std::move(groups);
      break;
    }
    if (errno != ERANGE) {
      break;
    }
    groups.resize(bytes / sizeof(::gid_t) + 1);
  }
  return peer;
}

} // namespace vigil::daemon
