// SPDX-License-Identifier: Apache-2.0
// vigild as a container's init (init_mode.hpp): /proc read for the processes left, and
// those ended with SIGTERM, then SIGKILL, reaped, and waited for within a grace.
#include "init_mode.hpp"

#include "vigil/os/reaper.hpp"

#include <spdlog/spdlog.h>

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

namespace vigil::daemon {
namespace {

using clock = std::chrono::steady_clock;

/// How long SIGKILLed processes may take to go away before vigild stops waiting for them
/// (a process in uninterruptible sleep dies only when its I/O completes).
constexpr std::chrono::milliseconds kill_wait{3000};
constexpr std::chrono::milliseconds poll_every{20};

std::optional<pid_t> parse_pid(std::string_view s) {
  pid_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value <= 0) {
    return std::nullopt;
  }
  return value;
}

/// A process's state letter and parent from /proc/PID/stat ("PID (comm) S PPID ..."; comm
/// may hold spaces and parentheses, so the fields are read after the last ')').
struct stat_line {
  char state = '?';
  pid_t ppid = 0;
};

std::optional<stat_line> read_stat(pid_t p) {
  std::ifstream in("/proc/" + std::to_string(p) + "/stat");
  std::string line;
  if (!std::getline(in, line)) {
    return std::nullopt;
  }
  auto close = line.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream rest(line.substr(close + 1));
  stat_line s;
  if (!(rest >> s.state >> s.ppid)) {
    return std::nullopt;
  }
  return s;
}

/// Every pid listed in /proc, with its stat line.
template <typename F>
void each_process(F&& f) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) {
    return;
  }
  while (const dirent* e = ::readdir(dir)) { // NOLINT(concurrency-mt-unsafe): one thread
    if (auto p = parse_pid(e->d_name)) {
      if (auto s = read_stat(*p)) {
        f(*p, *s);
      }
    }
  }
  ::closedir(dir);
}

/// The live (not zombie) processes to end: as PID 1 every other process that this /proc
/// shows, otherwise this process's children.
std::vector<pid_t> live_targets(bool pid1) {
  std::vector<pid_t> out;
  pid_t self = ::getpid();
  each_process([&](pid_t p, const stat_line& s) {
    if (p != self && s.state != 'Z' && (pid1 || s.ppid == self)) {
      out.push_back(p);
    }
  });
  return out;
}

/// Whether any process is left to wait for. As PID 1, kill(-1, 0) asks the kernel, which
/// knows the namespace even when /proc is the host's.
bool any_left(bool pid1) {
  if (pid1) {
    return ::kill(-1, 0) == 0;
  }
  return !live_targets(false).empty();
}

/// Sends `sig` to the targets not in `done` (all of them as PID 1, through kill(-1)); returns
/// how many it reached.
std::size_t signal_targets(bool pid1, int sig, std::set<pid_t>& done) {
  std::size_t n = 0;
  auto targets = live_targets(pid1);
  if (pid1) {
    if (done.empty() && ::kill(-1, sig) == 0) {
      n = targets.empty() ? 1 : targets.size();
      done.insert(targets.begin(), targets.end());
      done.insert(0); // kill(-1) is sent once per phase
    }
    return n;
  }
  for (pid_t p : targets) {
    if (done.insert(p).second && ::kill(p, sig) == 0) {
      ++n;
    }
  }
  return n;
}

/// Signals, reaps and waits until nothing is left or `until` passes.
void phase(bool pid1, int sig, clock::time_point until, std::size_t& signalled,
           std::size_t& reaped) {
  std::set<pid_t> done;
  for (;;) {
    reaped += os::reap_orphans();
    if (!any_left(pid1)) {
      return;
    }
    signalled += signal_targets(pid1, sig, done);
    if (clock::now() >= until) {
      return;
    }
    std::this_thread::sleep_for(poll_every);
  }
}

} // namespace

bool is_pid1() {
  return ::getpid() == 1;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  each_process([&](pid_t p, const stat_line& s) {
    if (s.ppid == parent) {
      out.push_back(p);
    }
  });
  return out;
}

leftover_report end_leftovers(std::chrono::milliseconds grace) {
  leftover_report r;
  bool pid1 = is_pid1();
  r.reaped += os::reap_orphans();
  if (!any_left(pid1)) {
    return r;
  }
  phase(pid1, SIGTERM, clock::now() + grace, r.terminated, r.reaped);
  if (any_left(pid1)) {
    phase(pid1, SIGKILL, clock::now() + kill_wait, r.killed, r.reaped);
  }
  if (r.terminated + r.killed > 0) {
    spdlog::info("ended {} leftover process(es) after the tree stopped ({} needed SIGKILL)",
                 r.terminated, r.killed);
  }
  if (any_left(pid1)) {
    spdlog::warn("processes are still alive {} ms after SIGKILL; exiting anyway",
                 kill_wait.count());
  }
  return r;
}

} // namespace vigil::daemon
