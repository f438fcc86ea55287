// SPDX-License-Identifier: Apache-2.0
#pragma once

// Who may use the control socket: root, the daemon's own user, and the users and groups of
// the config's [daemon] allowed_users / allowed_groups. Each connection's peer is read with
// SO_PEERCRED (and SO_PEERGROUPS for its supplementary groups) when it is accepted.

#include "vigil/common/result.hpp"

#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

namespace vigil::daemon {

/// The credentials of a connected peer.
struct peer_credentials {
  ::pid_t pid = 0;
  ::uid_t uid = 0;
  ::gid_t gid = 0;
  /// Supplementary groups, when the kernel reports them.
  std::vector<::gid_t> groups;
};

/// Who is allowed besides root and `daemon_uid`.
struct access_policy {
  ::uid_t daemon_uid = 0;
  std::vector<::uid_t> uids;
  std::vector<::gid_t> gids;
};

/// Root and the user vigild runs as: served from the connections a listener keeps in
/// reserve, and held to no per-user cap (connection_quota).
[[nodiscard]] inline bool trusted_peer(::uid_t uid, const access_policy& policy) noexcept {
  return uid == 0 || uid == policy.daemon_uid;
}

/// True when `peer` may use the socket: uid 0, the daemon's uid, an allowed uid, or a
/// primary or supplementary group that is allowed.
[[nodiscard]] bool authorized(const peer_credentials& peer, const access_policy& policy) noexcept;

/// A policy from the config's user and group lists (names or numeric ids). Names that do not
/// resolve are left out, each with a warning for the log.
struct resolved_policy {
  access_policy policy;
  std::vector<std::string> warnings;
};

[[nodiscard]] resolved_policy resolve_policy(std::span<const std::string> users,
                                             std::span<const std::string> groups,
                                             ::uid_t daemon_uid);

/// The credentials of the peer of the connected Unix socket `fd`.
[[nodiscard]] result<peer_credentials> read_peer_credentials(int fd);

} // namespace vigil::daemon
