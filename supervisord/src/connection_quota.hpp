// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>

namespace vigil::daemon {

/// Who may open one more connection on a listener that serves `total` at once: the last
/// `reserved` are kept for trusted peers (root and vigild's own user, trusted_peer()), and
/// every other user is held to its own cap (daemon.max_connections_per_user), so that an
/// allowed user who opens connections without end cannot lock the administrator out. The
/// control socket and the observer's Unix socket each keep one; the listener counts its
/// open connections itself and passes the count in.
class connection_quota {
public:
  enum class verdict { admit, full, user_full };

  connection_quota(std::size_t total, std::size_t reserved) noexcept
      : total_(total), reserved_(reserved) {}

  /// Whether a peer of `uid` may open one more while `open` are open.
  [[nodiscard]] verdict check(std::size_t open, ::uid_t uid, bool trusted,
                              std::size_t per_user) const {
    if (open >= (trusted ? total_ : total_ - reserved_)) {
      return verdict::full;
    }
    return !trusted && of(uid) >= per_user ? verdict::user_full : verdict::admit;
  }

  /// Whether a peer with no credentials (a TCP client) may open one more.
  [[nodiscard]] bool room_for_anyone(std::size_t open) const noexcept {
    return open < total_ - reserved_;
  }

  /// The connections `uid` holds.
  [[nodiscard]] std::size_t of(::uid_t uid) const {
    auto it = per_uid_.find(uid);
    return it == per_uid_.end() ? 0 : it->second;
  }

  void opened(::uid_t uid) { ++per_uid_[uid]; }

  void closed(::uid_t uid) {
    if (auto it = per_uid_.find(uid); it != per_uid_.end() && --it->second == 0) {
      per_uid_.erase(it);
    }
  }

private:
  std::size_t total_;
  std::size_t reserved_;
  std::map<::uid_t, std::size_t> per_uid_;
};

} // namespace vigil::daemon
