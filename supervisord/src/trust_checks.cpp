// SPDX-License-Identifier: Apache-2.0
#include "trust_checks.hpp"

#include "vigil/common/file_trust.hpp"
#include "vigil/os/launch.hpp"

#include <unistd.h>

#include <cstdlib>

namespace vigil::daemon {
namespace {

std::string refusal(const std::string& what, const std::string& problem) {
  bool plugin = what.starts_with("plugin ");
  return what + (plugin ? ": refusing to load as root: " : ": refusing to run as root: ") + problem
         + " (vigild --insecure-paths allows it)";
}

struct walker {
  std::string worker_program;
  std::vector<std::string> problems;
  bool worker_checked = false;

  /// `missing_ok`: a file that is not there is the launch's to report (a child that cannot
  /// start is held as failed, docs/vigild.md), not a question of trust.
  void check(const std::string& what, const std::string& file, bool missing_ok = false) {
    if (auto trusted = trusted_path(file, 0); !trusted) {
      if (missing_ok && trusted.error().error_number != 0) {
        return;
      }
      problems.push_back(refusal(what, trusted.error().message));
    }
  }

  void walk(const supervision::supervisor_spec& sup, const std::string& path) {
    for (const auto& c : sup.children) {
      std::string at = path + "/" + c.id;
      if (c.supervisor) {
        walk(*c.supervisor, at);
      } else if (c.mode == "command" && !c.os.command.empty()) {
        command(at, c);
      } else if (c.mode == "process" && !worker_checked) {
        worker_checked = true;
        check(at + ": vigil-worker " + worker_program, worker_program);
      }
    }
  }

  void command(const std::string& at, const supervision::child_spec& c) {
    const std::string& program = c.os.command.front();
    std::string path_var;
    if (auto it = c.os.env.find("PATH"); it != c.os.env.end()) {
      path_var = it->second;
    } else if (const char* own = std::getenv("PATH");
               own != nullptr) { // NOLINT(concurrency-mt-unsafe)
      path_var = own;
    }
    auto found = os::resolve_program(program, {"PATH=" + path_var});
    if (!found) {
      return; // the launch reports a missing program, as without the check
    }
    std::string file = *found;
    if (file.front() != '/' && !c.os.cwd.empty()) {
      file = c.os.cwd + "/" + file;
    }
    check(at + ": command " + program, file, true);
  }
};

} // namespace

std::vector<std::string> untrusted_files(const config::config_tree& tree,
                                         const std::string& worker_program, bool strict_modes) {
  if (!strict_modes || ::geteuid() != 0) {
    return {};
  }
  walker w{worker_program, {}, false};
  for (const auto& plugin : tree.daemon.plugins) {
    w.check("plugin " + plugin, plugin);
  }
  w.walk(tree.root, "root");
  return std::move(w.problems);
}

} // namespace vigil::daemon
