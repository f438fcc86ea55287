// SPDX-License-Identifier: Apache-2.0
#include "vigil/common/file_trust.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace vigil {
namespace {

std::string errno_text(int e) {
  return std::error_code(e, std::generic_category()).message();
}

std::string octal(::mode_t mode) {
  char buf[8];
  (void)std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777U));
  return buf;
}

} // namespace

std::string ownership_problem(const struct stat& st, const std::string& name, ::uid_t owner,
                              bool sticky_ok) {
  if (st.st_uid != 0 && st.st_uid != owner) {
    return name + " is owned by uid " + std::to_string(st.st_uid) + ", not by root"
           + (owner != 0 ? " or uid " + std::to_string(owner) : std::string());
  }
  if (sticky_ok && (st.st_mode & S_ISVTX) != 0) {
    return {};
  }
  if ((st.st_mode & S_IWOTH) != 0) {
    return name + " is writable by every user (mode " + octal(st.st_mode) + ")";
  }
  if ((st.st_mode & S_IWGRP) != 0) {
    return name + " is writable by its group (gid " + std::to_string(st.st_gid) + ", mode "
           + octal(st.st_mode) + ")";
  }
  return {};
}

namespace {

// The problem with `path` (absolute, lexically normal) or a directory on its way up to /, as
// lstat sees them: a symlink is not judged itself (no one can change one, only replace it,
// which its directory decides), only the directory that holds it.
std::string chain_problem(const std::string& path, ::uid_t owner) {
  struct stat st {};

  if (::lstat(path.c_str(), &st) != 0) {
    return path + ": " + errno_text(errno);
  }
  std::string problem;
  if (!S_ISLNK(st.st_mode)) {
    problem =
        ownership_problem(st, (S_ISDIR(st.st_mode) ? "the directory " : "the file ") + path, owner);
  }
  // Up to /: each directory owned by root (or `owner`), writable by no one else, unless it
  // is sticky and the entry below it on the path is owned by root (or `owner`).
  std::string child = path;
  while (problem.empty() && child != "/") {
    std::string dir = child.substr(0, child.rfind('/'));
    if (dir.empty()) {
      dir = "/";
    }
    bool child_owned = st.st_uid == 0 || st.st_uid == owner;
    if (::lstat(dir.c_str(), &st) != 0) {
      return dir + ": " + errno_text(errno);
    }
    if (!S_ISLNK(st.st_mode)) {
      problem = ownership_problem(st, "the directory " + dir, owner, child_owned);
    }
    child = dir;
  }
  return problem;
}

} // namespace

result<std::string, trust_problem> trusted_path(const std::string& path, ::uid_t owner) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    int e = errno;
    return trust_problem{path + ": " + errno_text(e), e};
  }
  std::string canonical(resolved);
  std::free(resolved); // NOLINT(cppcoreguidelines-no-malloc): realpath's allocation
  // The path as written, whose symlinks others must not be able to replace, and the path
  // they lead to.
  std::error_code ec;
  std::string written = std::filesystem::absolute(path, ec).lexically_normal().string();
  while (written.size() > 1 && written.back() == '/') {
    written.pop_back();
  }
  std::string problem = ec || written == canonical ? std::string() : chain_problem(written, owner);
  if (problem.empty()) {
    problem = chain_problem(canonical, owner);
  }
  if (!problem.empty()) {
    return trust_problem{problem};
  }
  return canonical;
}

result<unique_fd, trust_problem> open_trusted_dir(const std::string& path, ::uid_t owner) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    return trust_problem{
        path + ": "
        + (e == ENOTDIR || e == ELOOP ? "not a directory (a symlink?)" : errno_text(e))};
  }

  struct stat st {};

  if (::fstat(fd.get(), &st) != 0) {
    return trust_problem{path + ": " + errno_text(errno)};
  }
  if (auto problem = ownership_problem(st, "the directory " + path, owner); !problem.empty()) {
    return trust_problem{problem};
  }
  return fd;
}

} // namespace vigil
