// SPDX-License-Identifier: Apache-2.0
// The port process, an OS child's pid in the runtime: messages to it go into the child's
// ring (held back in order while it is full), an exit signal stops the child, and the
// child's exit becomes the port's.
#include "port.hpp"

#include "vigil/ipc/codec.hpp"
#include "vigil/os/cgroup.hpp"
#include "vigil/worker_sdk/envelope.hpp"

#include "readiness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <deque>

namespace vigil::os::detail {
namespace {

const atom route_tag("$vigil_route");
const atom port_info_tag("port_info");

/// The most terms a port holds back while its worker's ring is full.
constexpr std::size_t max_backlog = 100000;
/// And the most bytes (encoded): each term may take half the ring, so without this bound a
/// worker that never reads and sends itself large terms (each comes back through this port)
/// would make the daemon hold 100,000 of them, gigabytes.
constexpr std::size_t max_backlog_bytes = std::size_t{64} << 20;
/// While the worker's ring stays full the port retries when the worker's reader frees room
/// (it signals the child's wake eventfd, which the reactor turns into {:"$vigil_room"}),
/// when a new message comes, and on a timer: first after 1 ms, then twice as long each time
/// nothing could be written, up to once a second. The timer is what an SDK older than that
/// signal relies on (its reader only wakes a writer sleeping on the ring's futex word, and a
/// port, a runtime process, never sleeps there); backing off keeps a worker that never
/// reads from costing the daemon 1,000 wake-ups a second for as long as it is stuck.
constexpr std::chrono::milliseconds first_retry{1};
constexpr std::chrono::milliseconds longest_retry{1000};
constexpr std::chrono::seconds kill_wait{10};

/// The contents of a /proc file, or what could be read of it. Not an ifstream: a process
/// reaped between the open and the read makes read() fail with ESRCH, which a filebuf turns
/// into an exception that would end the caller (a status request).
std::string read_proc_file(const std::string& path) {
  std::string text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return text;
  }
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

bool tagged(const term& m, atom tag, std::size_t size) {
  return m.is_tuple() && m.size() == size && m[0].is(tag);
}

/// The frames for the worker, written straight into its ring, or held back while it is
/// full. Order is kept: once something is held back, everything after it waits too.
class outbound {
public:
  // A ring made larger than the bound (service_options::ring_capacity) may still hold back
  // one term as large as the ring takes.
  explicit outbound(os_child& c)
      : child_(c), writer_(c.to_view),
        max_bytes_(std::max(max_backlog_bytes, c.to_view.capacity())) {}

  void push(term frame) {
    if (!backlog_.empty() || !write(frame)) {
      std::size_t bytes = ipc::encoded_size(frame);
      if (backlog_.size() >= max_backlog || bytes > max_bytes_ - backlog_bytes_) {
        child_.dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      backlog_bytes_ += bytes;
      backlog_.push_back({std::move(frame), bytes});
    }
  }

  /// Writes what was held back while it fits; true when anything was.
  bool flush() {
    bool moved = false;
    while (!backlog_.empty() && write(backlog_.front().frame)) {
      backlog_bytes_ -= backlog_.front().bytes;
      backlog_.pop_front();
      moved = true;
    }
    return moved;
  }

  [[nodiscard]] bool holding() const noexcept { return !backlog_.empty(); }

  /// Asks the worker's reader to signal the child's wake eventfd once it frees room: the
  /// ring's "full ring" announcement (docs/ipc.md), which the reactor passes on as
  /// {:"$vigil_room"}. The caller tries to flush once more afterwards, so that room freed
  /// before the reader could see the announcement is not missed.
  void want_room() {
    child_.room_wanted.store(true, std::memory_order_seq_cst);
    child_.to_view.header().writer_sleeping.store(1, std::memory_order_seq_cst);
  }

private:
  /// True when the frame is gone (written, or dropped for good); false when the ring is full.
  bool write(const term& frame) {
    // Counted before the write publishes it: the child may answer, and the answer reach
    // whoever asked, before this thread runs again; a reply must never be seen before the
    // request is counted. A write that does not happen takes its count back.
    child_.sent.fetch_add(1, std::memory_order_relaxed);
    auto r = writer_.try_write(frame);
    if (!r || !*r) {
      child_.sent.fetch_sub(1, std::memory_order_relaxed);
    }
    if (!r) {
      if (r.error().code == make_error_code(errc::limit_exceeded)) {
        child_.dropped.fetch_add(1, std::memory_order_relaxed);
      } else {
        child_.fail_channel(r.error().message());
      }
      return true;
    }
    return *r;
  }

  struct held {
    term frame;
    std::size_t bytes; ///< encoded
  };

  os_child& child_;
  ipc::ring_writer writer_;
  std::deque<held> backlog_;
  std::size_t max_bytes_;
  std::size_t backlog_bytes_ = 0; ///< of the terms in backlog_, <= max_bytes_
};

/// Stops the child after an exit signal: the stop signal, `shutdown` to go, then SIGKILL.
task<> stop_child(context& self, const port_setup& s) {
  const auto exited = pattern::tuple({os_exit_tag(), pattern::any(), pattern::any()});
  bool brutal = s.shutdown.how == supervision::shutdown_policy::kind::brutal_kill;
  s.child->signal_group(brutal ? SIGKILL : s.stop_signal);
  if (!brutal) {
    // A stopped process (SIGSTOP, a terminal's SIGTSTP, a debugger) only acts on its stop
    // signal once continued: without this it waited out the whole `shutdown` and was
    // SIGKILLed, never stopping cleanly (systemd sends SIGCONT after the signal too).
    s.child->signal_group(SIGCONT);
  }
  timeout grace = brutal ? timeout(kill_wait)
                  : s.shutdown.how == supervision::shutdown_policy::kind::infinity
                      ? infinity
                      : s.shutdown.timeout;
  auto got = co_await self.receive(exited, grace);
  if (!got) {
    s.child->signal_group(SIGKILL);
    (void)co_await self.receive(exited, kill_wait);
  }
}

} // namespace

port_lease::~port_lease() {
  child_->signal_group(SIGKILL);
}

term make_route(pid to, const term& message) {
  return vigil::make_tuple(route_tag, to, message);
}

task<> port_process(context& self, port_setup setup) {
  outbound out(*setup.child);
  std::chrono::milliseconds retry = first_retry;
  for (;;) {
    auto m = co_await self.receive(out.holding() ? timeout(retry) : infinity);
    bool moved = out.flush();
    if (out.holding()) {
      out.want_room();
      moved = out.flush() || moved;
    }
    if (moved || !out.holding()) {
      retry = first_retry;
    } else if (!m) {
      retry = std::min(retry * 2, longest_retry);
    }
    if (!m) {
      continue;
    }
    const term& msg = m.message;
    if (tagged(msg, room_tag(), 1)) {
      // The worker freed room (room_tag): flushed above.
    } else if (tagged(msg, os_exit_tag(), 3)) {
      co_await self.exit(msg[1]);
    } else if (tagged(msg, atoms::exit, 3) && msg[1].is_pid()) {
      if (msg[1].as_pid() == setup.parent || !msg[2].is(atoms::normal)) {
        co_await stop_child(self, setup);
        co_await self.exit(msg[2]);
      }
    } else if ((tagged(msg, ready_tag(), 3) || tagged(msg, waiting_tag(), 3)) && msg[1].is_pid()
               && msg[1].as_pid() == self.self()) {
      // From the reactor's checks (checks.hpp): the supervisor hears it from its child's pid.
      self.send(setup.parent, msg);
    } else if (tagged(msg, port_info_tag, 3) && msg[1].is_pid()) {
      self.send(msg[1].as_pid(), vigil::make_tuple(msg[2], make_port_info(*setup.child).to_term()));
    } else if (tagged(msg, route_tag, 3)) {
      // Every pid the worker is shown becomes one it may send to (capabilities.hpp).
      setup.child->grants.given.grant_all(msg[2], setup.child->node);
      out.push(sdk::make_send(msg[1], msg[2]));
    } else {
      setup.child->grants.given.grant_all(msg, setup.child->node);
      out.push(sdk::make_send(sdk::main_tag(), msg));
    }
  }
}

port_info make_port_info(const os_child& c) {
  port_info info;
  info.port = c.port;
  info.os_pid = c.os_pid;
  info.node = c.node;
  info.program = c.program;
  info.log_key = c.key;
  info.restarts = c.restarts;
  info.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - c.started)
                       .count();
  info.ring_to_worker_bytes = c.depth(c.to_worker);
  info.ring_from_worker_bytes = c.depth(c.from_worker);
  info.sent = c.sent.load(std::memory_order_relaxed);
  info.received = c.received.load(std::memory_order_relaxed);
  info.dropped = c.dropped.load(std::memory_order_relaxed);
  info.held_back = c.held_back.load(std::memory_order_relaxed);
  info.refused = c.grants.refused.load(std::memory_order_relaxed);
  info.attached = c.attached.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(c.health_mutex);
    info.health = c.health_report;
  }
  if (c.log_lines_dropped) {
    info.log_lines_dropped = c.log_lines_dropped->load(std::memory_order_relaxed);
  }
  if (!c.cgroup_path.empty()) {
    info.cgroup = c.cgroup_path;
    info.cgroup_procs = static_cast<std::int64_t>(cgroup_tree::procs(c.cgroup_path).size());
    auto used = cgroup_tree::usage(c.cgroup_path, c.cgroup_v1);
    auto as_int = [](std::optional<std::uint64_t> v) {
      return v ? static_cast<std::int64_t>(*v) : std::int64_t{-1};
    };
    info.cgroup_memory_bytes = as_int(used.memory_bytes);
    info.cgroup_cpu_usec = as_int(used.cpu_usec);
    info.cgroup_pids = as_int(used.pids);
  }
  std::string text = read_proc_file("/proc/" + std::to_string(c.os_pid) + "/stat");
  auto close = text.rfind(')');
  if (close == std::string::npos) {
    return info;
  }
  // Fields after the command: the 3rd (state) first; utime, stime are the 14th and 15th
  // and rss (pages) the 24th.
  std::int64_t field[25] = {};
  const char* p = text.data() + close + 1;
  const char* end = text.data() + text.size();
  for (int i = 3; i <= 24 && p < end; ++i) {
    while (p < end && *p == ' ') {
      ++p;
    }
    const char* start = p;
    while (p < end && *p != ' ') {
      ++p;
    }
    std::from_chars(start, p, field[i]);
  }
  long tick = ::sysconf(_SC_CLK_TCK);
  info.cpu_ms = tick > 0 ? (field[14] + field[15]) * 1000 / tick : 0;
  info.rss_kb = field[24] * (::sysconf(_SC_PAGESIZE) / 1024);
  return info;
}

} // namespace vigil::os::detail
