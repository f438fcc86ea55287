// SPDX-License-Identifier: Apache-2.0
// The controllers of cgroup_tree (cgroup.hpp): which of memory, pids and cpu the children get
// and where (cgroup v2, else a hybrid host's v1 hierarchies), the limits written into a
// child's cgroups before it starts (its own, and the default pids limit of those without
// one), and what they count (memory, CPU time, processes, OOM kills). See
// docs/os-workers.md, "Limits".
#include "vigil/os/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

namespace vigil::os {
namespace {

/// The CFS period vigild sets: cpus = 1.5 is 150 ms per 100 ms, as systemd's CPUQuota=.
constexpr std::uint64_t cpu_period_usec = 100000;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The number after `key ` on a line of a flat-keyed file (memory.events, cpu.stat).
std::optional<std::uint64_t> keyed(const std::string& path, std::string_view key) {
  std::istringstream in(read_text(path));
  std::string k;
  std::uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) {
      return v;
    }
  }
  return std::nullopt;
}

/// A file holding one number (memory.current, pids.current).
std::optional<std::uint64_t> number(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t v = 0;
  if (in >> v) {
    return v;
  }
  return std::nullopt;
}

/// Writes `text` into `dir/file`; empty on success, else why.
std::string write_value(const std::string& dir, const char* file, const std::string& text) {
  std::string path = dir + "/" + file;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::string("unable to open ") + path + ": " + std::strerror(errno);
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  ::close(fd);
  return ok ? std::string()
            : "unable to write " + text + " into " + path + ": " + std::strerror(err);
}

bool has_word(std::string_view list, std::string_view word, char sep) {
  std::size_t at = 0;
  while (at <= list.size()) {
    auto end = list.find(sep, at);
    if (end == std::string_view::npos) {
      end = list.size();
    }
    if (list.substr(at, end - at) == word) {
      return true;
    }
    at = end + 1;
  }
  return false;
}

/// vigild's own directory in the v1 hierarchy of `name`, or empty: the mount from
/// /proc/self/mountinfo, the path from /proc/self/cgroup.
std::string v1_own_dir(std::string_view name) {
  std::string mount;
  std::string root;
  {
    std::istringstream in(read_text("/proc/self/mountinfo"));
    std::string line;
    while (std::getline(in, line) && mount.empty()) {
      auto dash = line.find(" - cgroup ");
      if (dash == std::string::npos) {
        continue;
      }
      std::istringstream after(line.substr(dash + 10));
      std::string source;
      std::string options;
      after >> source >> options;
      if (!has_word(options, name, ',')) {
        continue;
      }
      std::istringstream fields(line.substr(0, dash));
      std::string f;
      for (int i = 0; i < 5 && fields >> f; ++i) {
        if (i == 3) {
          root = f;
        } else if (i == 4) {
          mount = f;
        }
      }
    }
  }
  if (mount.empty()) {
    return {};
  }
  std::istringstream in(read_text("/proc/self/cgroup"));
  std::string line;
  while (std::getline(in, line)) {
    // hierarchy-id:controller,controller:path
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos
        || !has_word(std::string_view(line).substr(first + 1, second - first - 1), name, ',')) {
      continue;
    }
    std::string path = line.substr(second + 1);
    if (root != "/" && path.rfind(root, 0) == 0) {
      path = path.substr(root.size());
    }
    return mount + (path == "/" ? "" : path);
  }
  return {};
}

std::vector<std::string> subdirs(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_type == DT_DIR && std::strcmp(e->d_name, ".") != 0
          && std::strcmp(e->d_name, "..") != 0) {
        out.push_back(path + "/" + e->d_name);
      }
    }
    ::closedir(d);
  }
  return out;
}

/// Removes `path`'s empty subdirectories and then `path` (v1 directories empty themselves
/// when their processes, which are in a v2 cgroup too, are killed).
void remove_v1_tree(const std::string& path) {
  for (const auto& s : subdirs(path)) {
    (void)::rmdir(s.c_str());
  }
  (void)::rmdir(path.c_str());
}

} // namespace

void cgroup_tree::find_controllers() {
  std::string available = read_text(base_ + "/cgroup.controllers");
  for (controller* c : {&memory_, &pids_, &cpu_}) {
    if (has_word(available.substr(0, available.find('\n')), c->name, ' ')) {
      (void)write_value(base_, "cgroup.subtree_control", std::string("+") + c->name);
    }
  }
  std::string enabled = read_text(base_ + "/cgroup.subtree_control");
  enabled = enabled.substr(0, enabled.find('\n'));
  for (controller* c : {&memory_, &pids_, &cpu_}) {
    c->v2 = has_word(enabled, c->name, ' ');
    if (c->v2) {
      continue;
    }
    std::string own = v1_own_dir(c->name);
    if (own.empty()) {
      c->missing = std::string("cgroup v2 has no ") + c->name + " controller under " + base_
                   + " and no v1 " + c->name + " hierarchy is mounted";
      continue;
    }
    std::string base = own + "/vigil-" + std::to_string(::getpid());
    if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) {
      c->missing = std::string("cgroup v2 has no ") + c->name + " controller under " + base_
                   + ", and making " + base + " failed: " + std::strerror(errno);
      continue;
    }
    c->v1_base = base;
  }
  clean_v1();
}

std::uint64_t cgroup_tree::tasks_ceiling() const {
  // The kernel's own ceiling (PID_MAX_LIMIT on 64 bits) where nothing can be read.
  constexpr std::uint64_t pid_max_limit = 4194304;
  std::uint64_t most = std::numeric_limits<std::uint64_t>::max();
  auto take = [&most](const std::string& path) {
    // "max" (no limit) reads as no number.
    if (auto n = number(path); n && *n > 0) {
      most = std::min(most, *n);
    }
  };
  take("/proc/sys/kernel/pid_max");
  take("/proc/sys/kernel/threads-max");
  // The children's parent and its ancestors, for as long as they are cgroups: v2's base, or
  // on a hybrid host vigild's own v1 pids cgroup (vigil-<pid>'s parent). A root has no
  // pids.max; a systemd unit (TasksMax=) or a container's cgroup may.
  std::string dir = pids_.v2 ? base_ : pids_.v1_base.substr(0, pids_.v1_base.rfind('/'));
  while (!dir.empty() && ::access((dir + "/cgroup.procs").c_str(), F_OK) == 0) {
    take(dir + "/pids.max");
    dir = dir.substr(0, dir.rfind('/'));
  }
  return most == std::numeric_limits<std::uint64_t>::max() ? pid_max_limit : most;
}

void cgroup_tree::settle_default_pids(const cgroup_config& config) {
  bool wanted =
      (config.default_pids && *config.default_pids != supervision::resource_limit::unlimited)
      || config.default_pids_percent > 0;
  if (!wanted) {
    return;
  }
  if (!pids_.v2 && pids_.v1_base.empty()) {
    // Skipped quietly when it is the default: the same file serves a laptop without the
    // controller, and the children run as they would without the option.
    if (config.warn_default_pids && config.on_warning) {
      config.on_warning("cgroups: daemon.default_pids is not applied (" + pids_.missing + ")");
    }
    return;
  }
  std::string how = "daemon.default_pids";
  if (config.default_pids) {
    default_pids_ = config.default_pids;
  } else {
    // A share of what the children have together, rounded down, at least 1.
    std::uint64_t ceiling = tasks_ceiling();
    default_pids_ = std::max<std::uint64_t>(1, ceiling * config.default_pids_percent / 100);
    how += " = " + std::to_string(config.default_pids_percent) + "% of " + std::to_string(ceiling);
  }
  if (config.on_info) {
    config.on_info("cgroups: an OS child without limits.pids gets pids.max = "
                   + std::to_string(*default_pids_) + " (" + how + ")");
  }
}

void cgroup_tree::clean_v1() const {
  std::string mine = "vigil-" + std::to_string(::getpid());
  for (const controller* c : {&memory_, &pids_, &cpu_}) {
    if (c->v1_base.empty()) {
      continue;
    }
    // Our own children's directories; then bases left by vigilds that are gone (their
    // processes, in a v2 cgroup too, were killed when that was swept).
    for (const auto& s : subdirs(c->v1_base)) {
      (void)::rmdir(s.c_str());
    }
    std::string parent = c->v1_base.substr(0, c->v1_base.rfind('/'));
    for (const auto& s : subdirs(parent)) {
      std::string name = s.substr(s.rfind('/') + 1);
      if (name.rfind("vigil-", 0) == 0 && name != mine) {
        std::string pid = name.substr(6);
        bool alive = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos
                     && ::access(("/proc/" + pid).c_str(), F_OK) == 0;
        if (!alive) {
          remove_v1_tree(s);
        }
      }
    }
  }
}

void cgroup_tree::place(child_cgroup& c, const std::string& name,
                        const supervision::cgroup_limits& limits) const {
  // The v1 directory of controller `k`, made (and joined by the child) on first use.
  auto v1_dir = [&](const controller& k, std::string& dir) -> bool {
    if (!dir.empty()) {
      return true;
    }
    std::string path = k.v1_base + "/" + name;
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      c.refused.push_back(std::string(k.name) + ": unable to make " + path + ": "
                          + std::strerror(errno));
      return false;
    }
    unique_fd procs(::open((path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (!procs) {
      c.refused.push_back(std::string(k.name) + ": unable to open " + path
                          + "/cgroup.procs: " + std::strerror(errno));
      (void)::rmdir(path.c_str());
      return false;
    }
    c.v1_procs.push_back(std::move(procs));
    dir = path;
    return true;
  };
  // The child's own pids limit wins, higher or lower, and "infinity" (unlimited) is none:
  // a fresh cgroup's pids.max is "max". Without one, the default (daemon.default_pids).
  std::optional<std::uint64_t> pids = limits.pids ? limits.pids : default_pids_;
  if (pids == supervision::resource_limit::unlimited) {
    pids.reset();
  }
  // A v1 hierarchy is joined only for a limit that needs it: the child's write into a v1
  // cgroup.procs waits for an RCU grace period (cgroup_threadgroup_rwsem), 15-20 ms of
  // restart latency, which CLONE_INTO_CGROUP avoids in v2. Unlimited children on a hybrid
  // host are counted by v2 alone (CPU time; memory and pids are null). The default pids
  // limit is such a limit: on a hybrid host every child under it pays that latency, the
  // price of the fork-bomb guard there (daemon.default_pids = "infinity" lifts both).
  bool memory_v1 = !memory_.v2 && !memory_.v1_base.empty() && (limits.memory || limits.memory_high)
                   && v1_dir(memory_, c.v1.memory);
  bool pids_v1 = !pids_.v2 && !pids_.v1_base.empty() && pids && v1_dir(pids_, c.v1.pids);

  auto set = [&](const controller& k, bool v1, const char* v2_file, const char* v1_file,
                 const std::string& value) {
    if (k.v2) {
      if (auto why = write_value(c.path, v2_file, value); !why.empty()) {
        c.refused.push_back(std::string(v2_file) + ": " + why);
      }
    } else if (v1) {
      const std::string& dir = &k == &memory_ ? c.v1.memory : &k == &pids_ ? c.v1.pids : c.v1.cpu;
      if (auto why = write_value(dir, v1_file, value); !why.empty()) {
        c.refused.push_back(std::string(v2_file) + ": " + why);
      }
    } else {
      c.refused.push_back(std::string(v2_file) + " (" + k.missing + ")");
    }
  };
  if (limits.memory) {
    set(memory_, memory_v1, "memory.max", "memory.limit_in_bytes", std::to_string(*limits.memory));
  }
  if (limits.memory_high) {
    // v1 has no throttling limit: the soft limit is what reclaim aims for under pressure.
    set(memory_, memory_v1, "memory.high", "memory.soft_limit_in_bytes",
        std::to_string(*limits.memory_high));
  }
  if (pids) {
    set(pids_, pids_v1, "pids.max", "pids.max", std::to_string(*pids));
  }
  if (limits.cpus) {
    auto quota = static_cast<std::uint64_t>(std::llround(*limits.cpus * cpu_period_usec));
    if (cpu_.v2) {
      set(cpu_, false, "cpu.max", "",
          std::to_string(quota) + " " + std::to_string(cpu_period_usec));
    } else if (!cpu_.v1_base.empty() && v1_dir(cpu_, c.v1.cpu)) {
      if (auto why = write_value(c.v1.cpu, "cpu.cfs_period_us", std::to_string(cpu_period_usec));
          !why.empty()) {
        c.refused.push_back("cpu.max: " + why);
      } else {
        set(cpu_, true, "cpu.max", "cpu.cfs_quota_us", std::to_string(quota));
      }
    } else {
      set(cpu_, false, "cpu.max", "", "");
    }
  }
}

cgroup_usage cgroup_tree::usage(const std::string& path, const cgroup_v1_dirs& v1) {
  cgroup_usage u;
  u.memory_bytes = number(path + "/memory.current");
  if (!u.memory_bytes && !v1.memory.empty()) {
    u.memory_bytes = number(v1.memory + "/memory.usage_in_bytes");
  }
  u.cpu_usec = keyed(path + "/cpu.stat", "usage_usec");
  u.pids = number(path + "/pids.current");
  if (!u.pids && !v1.pids.empty()) {
    u.pids = number(v1.pids + "/pids.current");
  }
  return u;
}

std::uint64_t cgroup_tree::oom_kills(const std::string& path, const cgroup_v1_dirs& v1) {
  if (auto n = keyed(path + "/memory.events", "oom_kill")) {
    return *n;
  }
  if (!v1.memory.empty()) {
    return keyed(v1.memory + "/memory.oom_control", "oom_kill").value_or(0);
  }
  return 0;
}

void cgroup_tree::remove_v1(const cgroup_v1_dirs& v1) {
  for (const std::string* dir : {&v1.memory, &v1.pids, &v1.cpu}) {
    if (!dir->empty()) {
      (void)::rmdir(dir->c_str());
    }
  }
}

} // namespace vigil::os
