// SPDX-License-Identifier: Apache-2.0
// cgroup_tree (cgroup.hpp): the cgroup2 base found or made, vigild moved into its own leaf,
// a cgroup made per OS child, and cgroups emptied (cgroup.kill), removed and swept when stale.
#include "vigil/os/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>

namespace vigil::os {
namespace {

/// How long a cgroup being removed may take to empty after cgroup.kill (processes in
/// uninterruptible sleep die when they wake).
constexpr std::chrono::seconds empty_wait{5};

error sys_error(int err, std::string context) {
  return error{std::error_code(err, std::system_category()),
               std::move(context) + ": " + std::strerror(err)};
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool write_at(int dir, const char* file, std::string_view text) {
  unique_fd fd(::openat(dir, file, O_WRONLY | O_CLOEXEC));
  if (!fd) {
    return false;
  }
  return ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

bool write_file(const std::string& path, std::string_view text) {
  return write_at(AT_FDCWD, path.c_str(), text);
}

/// Kills what is in `path` and below, waits (bounded) for it to empty, and removes the
/// directories bottom-up.
void remove_tree(const std::string& path) {
  unique_fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    return;
  }
  (void)cgroup_tree::kill_all(dir.get());
  unique_fd events(::openat(dir.get(), "cgroup.events", O_RDONLY | O_CLOEXEC));
  auto deadline = std::chrono::steady_clock::now() + empty_wait;
  while (events) {
    auto pop = cgroup_tree::read_populated(events.get());
    if (!pop || !*pop || std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    pollfd p{events.get(), POLLPRI, 0};
    (void)::poll(&p, 1, 100);
  }
  if (DIR* d = ::opendir(path.c_str())) {
    std::vector<std::string> subs;
    while (dirent* e = ::readdir(d)) {
      if (e->d_type == DT_DIR && std::strcmp(e->d_name, ".") != 0
          && std::strcmp(e->d_name, "..") != 0) {
        subs.push_back(path + "/" + e->d_name);
      }
    }
    ::closedir(d);
    for (const auto& s : subs) {
      remove_tree(s);
    }
  }
  (void)::rmdir(path.c_str());
}

std::string safe_name(const std::string& name) {
  std::string out;
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
              || ch == '_' || ch == '-' || ch == '.';
    out += ok ? ch : '_';
    if (out.size() >= 80) {
      break;
    }
  }
  if (out.empty() || out.front() == '.' || out.rfind("cgroup", 0) == 0 || out == "vigild") {
    out.insert(0, "c_");
  }
  return out;
}

/// The "0::" path of process `pid`, or nullopt.
std::optional<std::string> path_of(const std::string& proc_cgroup) {
  std::istringstream in(read_all(proc_cgroup));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) {
      return line.substr(3);
    }
  }
  return std::nullopt;
}

/// Whether `name` is one `make` gives a child: <id>-<node>. Nothing else in a base is
/// touched, whatever shares it.
bool is_child_name(std::string_view name) {
  auto dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) {
    return false;
  }
  for (char ch : name.substr(dash + 1)) {
    if (ch < '0' || ch > '9') {
      return false;
    }
  }
  return true;
}

bool move_self(const std::string& dir) {
  return write_file(dir + "/cgroup.procs", "0");
}

} // namespace

std::string cgroup_tree::find_mount() {
  std::istringstream in(read_all("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    // ... mount-point ... - fstype source options
    auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) {
      continue;
    }
    std::istringstream fields(line.substr(0, dash));
    std::string f;
    std::string root;
    std::string mount;
    for (int i = 0; i < 5 && fields >> f; ++i) {
      if (i == 3) {
        root = f;
      }
      if (i == 4) {
        mount = f;
      }
    }
    if (root == "/" && !mount.empty()) {
      return mount;
    }
  }
  return {};
}

std::optional<std::string> cgroup_tree::own_path() {
  return path_of("/proc/self/cgroup");
}

std::vector<int> cgroup_tree::procs(const std::string& path) {
  std::vector<int> out;
  std::istringstream in(read_all(path + "/cgroup.procs"));
  int pid = 0;
  while (in >> pid) {
    out.push_back(pid);
  }
  return out;
}

std::optional<bool> cgroup_tree::read_populated(int events_fd) {
  char buf[256];
  ssize_t n = ::pread(events_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) {
    return std::nullopt;
  }
  buf[n] = '\0';
  const char* p = std::strstr(buf, "populated ");
  if (p == nullptr) {
    return std::nullopt;
  }
  return p[10] == '1';
}

bool cgroup_tree::populated(int dir) {
  unique_fd events(::openat(dir, "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!events) {
    return false;
  }
  return read_populated(events.get()).value_or(false);
}

bool cgroup_tree::kill_all(int dir) {
  if (write_at(dir, "cgroup.kill", "1")) {
    return true;
  }
  // Kernels before 5.14: each pid listed, until none is left that we can signal. A process
  // forking meanwhile lands in the same cgroup and is caught by a later pass.
  bool any = false;
  for (int pass = 0; pass < 16; ++pass) {
    unique_fd procs(::openat(dir, "cgroup.procs", O_RDONLY | O_CLOEXEC));
    if (!procs) {
      return any;
    }
    std::string text;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(procs.get(), buf, sizeof buf)) > 0) {
      text.append(buf, static_cast<std::size_t>(n));
    }
    std::istringstream in(text);
    int pid = 0;
    bool found = false;
    while (in >> pid) {
      found = true;
      any = ::kill(pid, SIGKILL) == 0 || any;
    }
    if (!found) {
      return true;
    }
  }
  return any;
}

bool cgroup_tree::remove(const std::string& path) {
  return ::rmdir(path.c_str()) == 0 || errno == ENOENT;
}

std::shared_ptr<cgroup_tree> cgroup_tree::open(const cgroup_config& config) {
  auto warn = [&](const std::string& text) {
    if (config.on_warning) {
      config.on_warning(text);
    }
  };
  if (config.mode == "off") {
    return nullptr;
  }
  std::string mount = find_mount();
  if (mount.empty()) {
    warn("cgroups: no cgroup2 hierarchy is mounted; OS children are tracked by their process "
         "group only, and what leaves it (setsid, double fork) survives a stop");
    return nullptr;
  }
  auto own = own_path();
  if (!own) {
    warn("cgroups: /proc/self/cgroup has no cgroup2 line; process groups only");
    return nullptr;
  }
  std::shared_ptr<cgroup_tree> t(new cgroup_tree);
  t->mount_ = mount;
  t->warn_ = config.on_warning;
  t->old_cgroup_ = mount + (*own == "/" ? "" : *own);
  std::string how;
  if (config.mode != "auto") {
    t->base_ = config.mode;
    how = "the configured base";
  } else {
    // A systemd service (its main process, a child of PID 1, with an invocation id, in a
    // .service cgroup) owns its cgroup: with Delegate=yes it may make children there. So does
    // a container's PID 1 in a cgroup namespace of its own (whose root is not the host's root
    // cgroup, which has no cgroup.type). Anything else (a PID 1 of a mere pid namespace, a
    // vigild started by hand) makes a base of its own rather than take over a cgroup that may
    // hold others.
    bool systemd_service = ::getppid() == 1 && std::getenv("INVOCATION_ID") != nullptr
                           && own->size() > 8 && own->ends_with(".service");
    bool container_init =
        ::getpid() == 1 && *own == "/" && ::access((mount + "/cgroup.type").c_str(), F_OK) == 0;
    if (systemd_service) {
      t->base_ = t->old_cgroup_;
      how = "vigild's own cgroup (systemd Delegate=yes)";
    } else if (container_init) {
      t->base_ = mount;
      how = "the container's cgroup";
    } else {
      // vigil-<pid>, or vigil-<pid>-N when another pid namespace's vigild has that name.
      t->own_base_ = true;
      how = "made for this vigild and removed when it exits";
      for (int n = 0; n < 100 && t->base_.empty(); ++n) {
        std::string name = mount + "/vigil-" + std::to_string(::getpid());
        if (n > 0) {
          name += "-" + std::to_string(n);
        }
        if (::mkdir(name.c_str(), 0755) == 0) {
          t->base_ = name;
        } else if (errno != EEXIST) {
          warn("cgroups: unable to make " + name + " (" + std::strerror(errno)
               + "); OS children are tracked by their process group only");
          return nullptr;
        }
      }
      if (t->base_.empty()) {
        warn("cgroups: no free vigil-<pid> name under " + mount + "; process groups only");
        return nullptr;
      }
    }
  }
  if (::mkdir(t->base_.c_str(), 0755) != 0 && errno != EEXIST) {
    warn("cgroups: unable to make " + t->base_ + " (" + std::strerror(errno)
         + "); OS children are tracked by their process group only");
    return nullptr;
  }
  std::string leaf = t->base_ + "/vigild";
  if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
    warn("cgroups: unable to make " + leaf + " (" + std::strerror(errno)
         + "): is the cgroup delegated to vigild (systemd: Delegate=yes)? Process groups only");
    if (t->own_base_) {
      (void)::rmdir(t->base_.c_str());
    }
    return nullptr;
  }
  if (!move_self(leaf)) {
    warn("cgroups: unable to move vigild into " + leaf + " (" + std::strerror(errno)
         + "); process groups only");
    (void)::rmdir(leaf.c_str());
    if (t->own_base_) {
      (void)::rmdir(t->base_.c_str());
    }
    return nullptr;
  }
  t->clean_stale();
  t->clean_others();
  t->find_controllers();
  if (config.on_info) {
    config.on_info("cgroups: each OS child runs in a cgroup of its own under " + t->base_ + " ("
                   + how + ")");
  }
  t->settle_default_pids(config);
  return t;
}

void cgroup_tree::clean_stale() const {
  // The children of a previous vigild on this base (killed before it could clean up).
  if (DIR* d = ::opendir(base_.c_str())) {
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d)) {
      if (e->d_type == DT_DIR && is_child_name(e->d_name)) {
        stale.push_back(base_ + "/" + e->d_name);
      }
    }
    ::closedir(d);
    for (const auto& s : stale) {
      remove_tree(s);
    }
  }
}

namespace {
/// Whether the process that vigil-<pid>[-N] is named after still runs here (a pid of another
/// pid namespace may name another process: then the base is kept, which errs towards leaving).
bool named_pid_alive(const std::string& name) {
  std::string digits = name.substr(std::string_view("vigil-").size());
  digits = digits.substr(0, digits.find('-'));
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos
      || digits.size() > 9) {
    return false;
  }
  return ::kill(static_cast<pid_t>(std::stol(digits)), 0) == 0 || errno == EPERM;
}
} // namespace

void cgroup_tree::clean_others() const {
  if (!own_base_) {
    return;
  }
  // Bases of other vigilds under the mount whose vigild is gone.
  DIR* d = ::opendir(mount_.c_str());
  if (d == nullptr) {
    return;
  }
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (e->d_type != DT_DIR || name.rfind("vigil-", 0) != 0) {
      continue;
    }
    std::string path = mount_ + "/" + name;
    if (path == base_) {
      continue;
    }
    // A live vigild is in its base's leaf from just after its start to its exit; a leaf
    // without one, or a base without a leaf a minute after it was made, was left by a vigild
    // that is gone. A starting vigild has made its leaf but not yet moved into it: while the
    // pid its base is named after lives, the empty leaf is not taken for a dead one's (a
    // sweep then killed vigilds starting beside it).
    bool gone = false;
    unique_fd leaf(::open((path + "/vigild").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (leaf) {
      gone = !populated(leaf.get()) && !named_pid_alive(name);
    } else {
      struct stat st {};

      gone = ::stat(path.c_str(), &st) == 0 && st.st_mtime + 60 < ::time(nullptr);
    }
    if (gone) {
      stale.push_back(mount_ + "/" + name);
    }
  }
  ::closedir(d);
  for (const auto& s : stale) {
    if (warn_) {
      warn_("cgroups: removing " + s + ", left by a vigild that is gone, and what ran in it");
    }
    remove_tree(s);
  }
}

result<child_cgroup> cgroup_tree::make(const std::string& name,
                                       const supervision::cgroup_limits& limits) const {
  child_cgroup c;
  c.path = base_ + "/" + safe_name(name);
  if (::mkdir(c.path.c_str(), 0755) != 0) {
    if (errno != EEXIST) {
      return sys_error(errno, "unable to make the cgroup " + c.path);
    }
    remove_tree(c.path);
    if (::mkdir(c.path.c_str(), 0755) != 0) {
      return sys_error(errno, "unable to make the cgroup " + c.path);
    }
  }
  c.dir.reset(::open(c.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!c.dir) {
    int err = errno;
    (void)::rmdir(c.path.c_str());
    return sys_error(err, "unable to open the cgroup " + c.path);
  }
  place(c, safe_name(name), limits);
  return c;
}

cgroup_tree::~cgroup_tree() {
  clean_stale(); // every child's cgroup left: the service is gone, nothing may outlive it
  clean_v1();
  for (const controller* c : {&memory_, &pids_, &cpu_}) {
    if (!c->v1_base.empty()) {
      (void)::rmdir(c->v1_base.c_str());
    }
  }
  if (own_base_) {
    (void)move_self(old_cgroup_);
    (void)::rmdir((base_ + "/vigild").c_str());
    (void)::rmdir(base_.c_str());
  }
}

} // namespace vigil::os
