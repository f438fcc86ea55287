// SPDX-License-Identifier: Apache-2.0
// The checks vigild adds to config::checks (config_checks.hpp): plugins loaded, kinds and
// their arguments checked, and each command child's program, user and group on this host.
#include "config_checks.hpp"

#include "vigil/os/launch.hpp"
#include "vigil/workers/plugin.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace vigil::daemon {
namespace {

std::optional<std::uint32_t> numeric(const std::string& s) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::string user_problem(const std::string& user, bool group_set) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (auto id = numeric(user)) {
    (void)::getpwuid_r(*id, &pw, buf.data(), buf.size(), &found);
    if (found == nullptr && !group_set) {
      return "uid " + user + " has no passwd entry (so no primary group): set group too";
    }
    return {};
  }
  if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return "unknown user \"" + user + "\": no such user on this host";
  }
  return {};
}

std::string group_problem(const std::string& group) {
  if (numeric(group)) {
    return {};
  }
  std::vector<char> buf(16384);

  struct group gr {};
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return "unknown group \"" + group + "\": no such group on this host";
  }
  return {};
}

std::string known_kinds(const workers::kind_registry& kinds) {
  std::string out;
  for (const auto& name : kinds.names()) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

std::vector<config::kind_problem> kind_problems(const workers::kind_registry& kinds,
                                                check_mode mode, const std::string& kind,
                                                const term& args) {
  std::vector<config::kind_problem> out;
  if (kinds.find(kind) == nullptr) {
    std::string message =
        "unknown worker kind \"" + kind + "\" (known: " + known_kinds(kinds) + ")";
    if (mode == check_mode::reload) {
      message += "; a plugin added to daemon.plugins loads only when vigild restarts";
    }
    out.push_back({"", std::move(message)});
    return out;
  }
  if (const workers::arg_schema* schema = kinds.schema(kind)) {
    for (auto& p : workers::check_args(*schema, args)) {
      out.push_back({std::move(p.arg), std::move(p.message)});
    }
  }
  return out;
}

/// The child's PATH: its own `env`, else vigild's, else the launcher's default.
std::string child_path(const supervision::child_spec& child) {
  if (auto it = child.os.env.find("PATH"); it != child.os.env.end()) {
    return it->second;
  }
  const char* path = std::getenv("PATH"); // NOLINT(*-mt-unsafe): nothing sets the environment
  return path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
}

std::string mode_text(mode_t mode) {
  char octal[8];
  (void)std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777U));
  return octal;
}

/// Why `file` cannot be run, or an empty string.
std::string file_problem(const std::string& file) {
  struct stat st {};

  if (::stat(file.c_str(), &st) != 0) {
    int e = errno;
    return (e == ENOENT ? std::string("no such file")
                        : std::error_code(e, std::generic_category()).message())
           + ": " + file;
  }
  if (!S_ISREG(st.st_mode)) {
    return "not a regular file: " + file;
  }
  if (::access(file.c_str(), X_OK) != 0) {
    return "not executable (mode " + mode_text(st.st_mode) + "): " + file;
  }
  return {};
}

} // namespace

std::string program_problem(const supervision::child_spec& child) {
  if (child.os.command.empty()) {
    return {};
  }
  const std::string& program = child.os.command.front();
  if (program.find('/') != std::string::npos) {
    std::string file = program;
    if (program.front() != '/' && !child.os.cwd.empty()) {
      file = child.os.cwd + "/" + program;
    }
    std::string problem = file_problem(file);
    return problem.empty() ? problem : "program " + problem;
  }
  // The launcher's own search (os/launch.hpp).
  std::string path = child_path(child);
  auto searched = os::search_path(program, path);
  if (!searched.found.empty()) {
    return {};
  }
  if (!searched.not_executable.empty()) {
    return "program \"" + program + "\" is not executable: " + searched.not_executable + " (mode "
           + mode_text(searched.not_executable_mode) + ")";
  }
  return "program \"" + program + "\" not found in PATH (" + path + ")";
}

namespace {

/// The checks; plugins load into `load_into` unless it is null.
config::checks checks_for(const workers::kind_registry& kinds, workers::kind_registry* load_into,
                          check_mode mode, bool strict_modes) {
  config::checks c;
  if (load_into != nullptr) {
    // As root, a plugin that others could have replaced is refused before it is loaded
    // (workers::load_plugin, docs/security.md).
    c.load_plugin = [load_into, strict_modes](const std::string& path) -> std::string {
      auto loaded = workers::load_plugin(path, *load_into, strict_modes);
      return loaded ? std::string() : loaded.error().context;
    };
  }
  c.check_kind = [&kinds, mode](const std::string& kind, const term& args) {
    return kind_problems(kinds, mode, kind, args);
  };
  c.check_program = program_problem;
  c.check_user = user_problem;
  c.check_group = group_problem;
  c.host_severity =
      mode == check_mode::check_config ? config::severity::error : config::severity::warning;
  return c;
}

} // namespace

config::checks make_checks(workers::kind_registry& kinds, check_mode mode, bool strict_modes) {
  return checks_for(kinds, mode == check_mode::reload ? nullptr : &kinds, mode, strict_modes);
}

config::checks make_reload_checks(const workers::kind_registry& kinds) {
  return checks_for(kinds, nullptr, check_mode::reload, true);
}

} // namespace vigil::daemon
