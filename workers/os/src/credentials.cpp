// SPDX-License-Identifier: Apache-2.0
#include "vigil/os/credentials.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <system_error>
#include <vector>

namespace vigil::os {
namespace {

std::optional<std::uint32_t> numeric(const std::string& s) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

struct passwd_entry {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
  std::string home;
};

std::optional<passwd_entry> find_user(const std::string& user) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = 0;
  if (auto id = numeric(user)) {
    rc = ::getpwuid_r(*id, &pw, buf.data(), buf.size(), &found);
    if (found == nullptr) {
      return passwd_entry{*id, static_cast<gid_t>(-1), "", ""};
    }
  } else {
    rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  }
  if (rc != 0 || found == nullptr) {
    return std::nullopt;
  }
  return passwd_entry{pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir};
}

std::optional<gid_t> find_group(const std::string& group) {
  if (auto id = numeric(group)) {
    return *id;
  }
  std::vector<char> buf(16384);

  struct group gr {};
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return gr.gr_gid;
}

std::vector<gid_t> supplementary(const std::string& name, gid_t primary) {
  if (name.empty()) {
    return {primary};
  }
  int n = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  for (int tries = 0; tries < 8; ++tries) {
    int count = n;
    if (::getgrouplist(name.c_str(), primary, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      return groups;
    }
    n = count > n ? count : n * 2;
    groups.resize(static_cast<std::size_t>(n));
  }
  return {primary};
}

error not_found(const std::string& what) {
  return error{make_error_code(errc::not_found), what};
}

} // namespace

result<std::optional<credentials>> resolve_credentials(const std::string& user,
                                                       const std::string& group) {
  if (user.empty() && group.empty()) {
    return std::optional<credentials>();
  }
  credentials c;
  std::string name;
  if (!user.empty()) {
    auto pw = find_user(user);
    if (!pw) {
      return not_found("unknown user '" + user + "'");
    }
    c.uid = pw->uid;
    c.gid = pw->gid;
    name = pw->name;
    if (pw->gid == static_cast<gid_t>(-1) && group.empty()) {
      return not_found("uid " + user + " has no passwd entry: set `group` too");
    }
  } else {
    c.uid = ::geteuid();
  }
  if (!group.empty()) {
    auto gid = find_group(group);
    if (!gid) {
      return not_found("unknown group '" + group + "'");
    }
    c.gid = *gid;
  }
  c.groups = user.empty() ? std::vector<gid_t>{c.gid} : supplementary(name, c.gid);
  if (::geteuid() != 0) {
    if (c.uid == ::geteuid() && c.gid == ::getegid()) {
      return std::optional<credentials>(); // nothing to change
    }
    return error{std::make_error_code(std::errc::operation_not_permitted),
                 "running as user '" + user + "' group '" + group
                     + "' needs vigild to run as root"};
  }
  return std::optional<credentials>(std::move(c));
}

user_info lookup_user(uid_t uid) {
  auto pw = find_user(std::to_string(uid));
  if (!pw) {
    return {};
  }
  return {pw->name, pw->home};
}

} // namespace vigil::os
