// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/os/launch.hpp"

#include <optional>
#include <string>

namespace vigil::os {

/// The credentials an OS child runs with, from a config's `user` and `group` (names or
/// numeric ids). Resolved in the parent, since NSS lookups are not allowed in the child.
///
/// - neither set: nullopt, the child keeps vigild's credentials;
/// - `user` set: its uid, its primary group (or `group` if set) and its supplementary groups
///   (getgrouplist); `HOME`, `USER` and `LOGNAME` are the caller's business;
/// - only `group` set: vigild's uid with that group and no supplementary groups.
///
/// Errors: not_found for an unknown name; EPERM when a change is asked for and vigild is not
/// root (a user equal to vigild's own is no change and is allowed).
[[nodiscard]] result<std::optional<credentials>> resolve_credentials(const std::string& user,
                                                                     const std::string& group);

/// The home directory and name of `uid`, for HOME/USER/LOGNAME; empty when unknown.
struct user_info {
  std::string name;
  std::string home;
};

[[nodiscard]] user_info lookup_user(uid_t uid);

} // namespace vigil::os
