// SPDX-License-Identifier: Apache-2.0
// The OS reactor (reactor.hpp): one epoll thread that reaps OS children by pidfd, kills
// what is left of their groups and cgroups, reads their output into lines and their channels
// (round robin, a bounded turn each), and tells their ports. What it hands a child's
// readiness and health checks is in reactor_checks.cpp; os_child's own methods in os_child.cpp.
#include "reactor.hpp"

#include "vigil/os/cgroup.hpp"
#include "vigil/os/exit_reason.hpp"
#include "vigil/os/reaper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#ifndef P_PIDFD
#  define P_PIDFD 3
#endif

namespace vigil::os::detail {
namespace {

constexpr std::uint64_t wake_tag = 0;
constexpr std::size_t read_chunk = 64 * 1024;

/// How long an exited child's cgroup may take to empty after cgroup.kill before its port is
/// told anyway (a process stuck in uninterruptible sleep dies when it wakes).
constexpr std::chrono::seconds cgroup_empty_wait{10};
/// How often a cgroup being emptied is looked at besides its cgroup.events notifications.
constexpr int cgroup_poll_ms = 100;

const atom channel_error_atom("channel_error");
const atom unhealthy_atom("unhealthy");

/// Reaps the child behind `c.pidfd`; nullopt while it still runs.
std::optional<siginfo_t> reap(os_child& c) {
  siginfo_t info{};
  for (;;) {
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(c.pidfd.get()), &info,
                 WEXITED | WNOHANG)
        == 0) {
      if (info.si_pid == 0) {
        return std::nullopt;
      }
      return info;
    }
    if (errno == EINTR) {
      continue;
    }
    // ECHILD: reap_orphans() took it first and kept the status for us.
    if (auto kept = take_status(c.os_pid)) {
      return kept;
    }
    info.si_code = CLD_KILLED;
    info.si_status = SIGKILL;
    return info; // the status is lost; report it as killed rather than hang
  }
}

} // namespace

atom os_exit_tag() {
  static const atom tag("$vigil_os_exit");
  return tag;
}

atom room_tag() {
  static const atom tag("$vigil_room");
  return tag;
}

reactor::reactor(runtime& rt, line_sink on_lines, exit_hook on_exited, idle_hook on_idle,
                 bool reap_orphans)
    : rt_(rt), on_lines_(std::move(on_lines)), on_exited_(std::move(on_exited)),
      on_idle_(std::move(on_idle)), reap_orphans_(reap_orphans),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_tag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
  thread_ = std::thread([this] { run(); });
}

reactor::~reactor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  std::uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void reactor::watch(std::shared_ptr<os_child> c, unique_fd out, unique_fd err, pump_hooks hooks) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(
        entry{std::move(c), std::move(out), std::move(err), {}, {}, false, std::move(hooks)});
    ++count_;
  }
  std::uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof one);
}

std::size_t reactor::watched() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void reactor::add_pending() {
  std::vector<entry> adding;
  {
    std::lock_guard lock(mutex_);
    adding.swap(pending_);
  }
  for (auto& e : adding) {
    std::uint64_t id = next_id_++;
    auto add = [&](int fd, std::uint64_t which) {
      if (fd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = id << tag_bits | which;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
      }
    };
    e.pump = std::make_unique<channel_pump>(*e.child, e.hooks);
    if (auto deadline = e.pump->attach_deadline()) {
      attach_deadlines_.emplace_back(*deadline, id);
    }
    add(e.child->pidfd.get(), on_pidfd);
    add(e.out.get(), on_out);
    add(e.err.get(), on_err);
    // Level-triggered: a child that attached (and signalled) before this is seen at once.
    add(e.child->wake.get(), on_wake);
    e.id = id;
    start_checks(e);
    entries_.emplace(id, std::move(e));
  }
}

void reactor::run() {
  // Named, so that its CPU time and wake-ups can be told apart (bench/os_probe_bench.cpp).
  ::pthread_setname_np(::pthread_self(), "vigil-os-react");
  std::array<epoll_event, 64> events{};
  for (;;) {
    // Channels with frames left after their turn: look at the other events, do not sleep.
    int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                         ready_.empty() ? next_timeout_ms() : 0);
    sweep_orphans();
    check_emptying();
    check_attach_deadlines();
    retry_blocked();
    check_timers();
    if (n < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (events[static_cast<std::size_t>(i)].data.u64 == wake_tag) {
        std::uint64_t count = 0;
        (void)::read(wake_.get(), &count, sizeof count);
        add_pending();
      } else {
        on_event(events[static_cast<std::size_t>(i)].data.u64);
      }
    }
    serve_ready();
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        break;
      }
    }
    if (on_idle_) {
      on_idle_();
    }
  }
  finish_all();
}

void reactor::on_event(std::uint64_t data) {
  auto it = entries_.find(data >> tag_bits);
  if (it == entries_.end()) {
    return;
  }
  entry& e = it->second;
  switch (data & ((1U << tag_bits) - 1)) {
  case on_cgroup: check_empty(e, false); break;
  case on_pidfd: on_exit(e); break;
  case on_out: on_output(e, false, false); break;
  case on_err: on_output(e, true, false); break;
  case on_notify:
  case on_probe: on_check_event(e, data & ((1U << tag_bits) - 1)); break;
  case on_wake: {
    // Reset the counter first: a publish after it signals again. However often the child
    // signals, it gets one turn per wake-up.
    std::uint64_t count = 0;
    (void)::read(e.child->wake.get(), &count, sizeof count);
    // The worker's reader signals the same eventfd when it frees room for a port that holds
    // terms back (os_child::room_wanted): the port retries now, not on its timer. The port
    // asks again after each attempt, so a worker signalling in a loop gets no more turns
    // of its port than of its channel.
    if (e.child->room_wanted.load(std::memory_order_relaxed)
        && e.child->room_wanted.exchange(false)) {
      rt_.send(e.child->port, vigil::make_tuple(room_tag()));
    }
    if (!e.queued) {
      serve_channel(e);
    }
    break;
  }
  default: break;
  }
  if (e.finished && !e.out && !e.err) {
    drop_checks(e);
    forget_lingering(it->first);
    entries_.erase(it);
    std::lock_guard lock(mutex_);
    --count_;
  }
}

void reactor::serve_channel(entry& e) {
  if (!e.pump || e.finished || e.blocked) {
    return;
  }
  auto progress = e.pump->serve(frames_per_turn);
  forward_ready_frame(e);
  switch (progress) {
  case channel_pump::progress::more:
    e.queued = true;
    ready_.push_back(e.id);
    break;
  case channel_pump::progress::closed: close_wake(e); break;
  case channel_pump::progress::idle: break;
  case channel_pump::progress::blocked:
    e.blocked = true;
    blocked_.push_back(e.id);
    break;
  }
}

void reactor::retry_blocked() {
  if (blocked_.empty()) {
    return;
  }
  auto now = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> due;
  std::erase_if(blocked_, [&](std::uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.finished || !it->second.pump) {
      return true;
    }
    if (it->second.pump->retry_at() > now) {
      return false;
    }
    due.push_back(id);
    return true;
  });
  for (std::uint64_t id : due) {
    if (auto it = entries_.find(id); it != entries_.end()) {
      it->second.blocked = false;
      serve_channel(it->second);
    }
  }
}

void reactor::serve_ready() {
  for (std::size_t turns = ready_.size(); turns > 0; --turns) {
    std::uint64_t id = ready_.front();
    ready_.pop_front();
    auto it = entries_.find(id);
    if (it != entries_.end()) {
      it->second.queued = false;
      serve_channel(it->second);
    }
  }
}

void reactor::check_attach_deadlines() {
  if (attach_deadlines_.empty()) {
    return;
  }
  auto now = std::chrono::steady_clock::now();
  std::erase_if(attach_deadlines_, [&](const auto& d) {
    auto it = entries_.find(d.second);
    if (it == entries_.end() || it->second.finished || it->second.pump->attached()) {
      return true;
    }
    if (d.first > now) {
      return false;
    }
    it->second.pump->attach_deadline_passed();
    return true;
  });
}

void reactor::close_wake(entry& e) {
  if (e.child->wake) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, e.child->wake.get(), nullptr);
    e.child->wake.reset();
  }
}

void reactor::close_pipe(unique_fd& fd) {
  if (fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd.get(), nullptr);
    fd.reset();
  }
}

void reactor::emit(entry& e, std::string_view stream, std::string& buf, bool flush_all) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) {
      break;
    }
    lines.push_back(std::string_view(buf).substr(start, nl - start));
    start = nl + 1;
  }
  // A line longer than max_line is cut, so a child that never writes a newline cannot make
  // the buffer grow without bound.
  while (buf.size() - start >= max_line || (flush_all && start < buf.size())) {
    std::size_t len = std::min(max_line, buf.size() - start);
    lines.push_back(std::string_view(buf).substr(start, len));
    start += len;
  }
  if (!lines.empty() && on_lines_) {
    on_lines_(*e.child, stream, lines);
  }
  if (!lines.empty()) {
    forward_lines(e, lines);
  }
  buf.erase(0, start);
}

void reactor::on_output(entry& e, bool is_err, bool drain_only) {
  unique_fd& fd = is_err ? e.err : e.out;
  std::string& buf = is_err ? e.err_buf : e.out_buf;
  std::string_view stream = is_err ? "stderr" : "stdout";
  if (!fd) {
    return;
  }
  // One chunk per event keeps a chatty child from starving the others; a drain takes all.
  for (int turn = 0; turn < (drain_only ? 64 : 1); ++turn) {
    std::size_t old = buf.size();
    buf.resize(old + read_chunk);
    ssize_t n = ::read(fd.get(), buf.data() + old, read_chunk);
    buf.resize(old + static_cast<std::size_t>(n > 0 ? n : 0));
    if (n > 0) {
      emit(e, stream, buf, false);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    emit(e, stream, buf, true); // EOF or error: the last, unterminated line too
    close_pipe(fd);
    return;
  }
}

void reactor::on_exit(entry& e) {
  os_child& c = *e.child;
  std::optional<siginfo_t> info;
  {
    std::lock_guard lock(c.mutex);
    // Whatever the leader left in its group goes with it (systemd's KillMode=control-group);
    // its pid cannot have been reused while it is a zombie.
    ::kill(-c.os_pid, SIGKILL);
    info = reap(c);
    if (!info) {
      return; // a spurious wake-up: still running
    }
    c.reaped = true;
    // And so does whatever it left in its cgroup, in its group or not (setsid, double fork).
    if (c.cgroup_dir) {
      (void)cgroup_tree::kill_all(c.cgroup_dir.get());
    }
  }
  e.exited = true;
  stop_checks(e); // outside the child's mutex: an exec probe may take a moment to go
  e.os_reason = exit_reason(*info);
  // Killed inside its memory limit: the cgroup, made for this incarnation, counts the kill.
  if (info->si_code != CLD_EXITED && info->si_status == SIGKILL && !c.cgroup_path.empty()
      && cgroup_tree::oom_kills(c.cgroup_path, c.cgroup_v1) > 0) {
    e.os_reason = oom_killed_reason();
  }
  disown(c.os_pid);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.pidfd.get(), nullptr);
  // The incarnation is over when its cgroup is empty: a restart must not meet what the last
  // one left (a port still bound, a lock still held).
  if (c.cgroup_dir && cgroup_tree::populated(c.cgroup_dir.get())) {
    e.events.reset(::openat(c.cgroup_dir.get(), "cgroup.events", O_RDONLY | O_CLOEXEC));
    if (e.events) {
      e.empty_deadline = std::chrono::steady_clock::now() + cgroup_empty_wait;
      epoll_event ev{};
      ev.events = EPOLLPRI;
      ev.data.u64 = e.id << tag_bits | on_cgroup;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, e.events.get(), &ev);
      ++emptying_;
      check_empty(e, false);
      return;
    }
  }
  finish(e);
}

void reactor::check_empty(entry& e, bool give_up) {
  if (!e.events || e.finished) {
    return;
  }
  auto pop = cgroup_tree::read_populated(e.events.get());
  if (pop && *pop && !give_up && std::chrono::steady_clock::now() < e.empty_deadline) {
    return;
  }
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, e.events.get(), nullptr);
  e.events.reset();
  --emptying_;
  finish(e);
}

void reactor::check_emptying() {
  if (emptying_ == 0) {
    return;
  }
  for (auto& [id, e] : entries_) {
    if (e.events) {
      check_empty(e, false);
    }
  }
  std::erase_if(entries_, [this](const auto& kv) {
    const entry& e = kv.second;
    if (e.finished && !e.out && !e.err) {
      drop_checks(e);
      forget_lingering(kv.first);
      std::lock_guard lock(mutex_);
      --count_;
      return true;
    }
    return false;
  });
}

void reactor::finish(entry& e) {
  os_child& c = *e.child;
  e.finished = true;
  term os_reason = e.os_reason;
  // What the child sent before it died reaches the daemon before its exit is reported.
  if (e.pump) {
    e.pump->drain();
  }
  close_wake(e);
  // The incarnation is over with its cgroup gone (empty by now, or given up on): removed
  // before the port hears of the end, so that whoever the stop or exit is reported to next
  // (a `vigilctl stop` or `restart`, the next incarnation) never finds the old one's cgroup.
  if (!c.cgroup_path.empty()) {
    (void)cgroup_tree::remove(c.cgroup_path);
    cgroup_tree::remove_v1(c.cgroup_v1);
  }
  auto unhealthy = c.health_failure();
  // Its output too, a plain command's as well: a supervisor report quotes the last lines
  // the child wrote to stderr, read before vigild learns of the exit (docs/vigild.md,
  // "Supervisor reports"). The last of them, unterminated, only comes out here, at EOF.
  on_output(e, false, true);
  on_output(e, true, true);
  term reason = os_reason;
  if (auto failure = c.channel_failure()) {
    reason = vigil::make_tuple(channel_error_atom, *failure);
  } else if (unhealthy) {
    reason = vigil::make_tuple(unhealthy_atom, *unhealthy);
  } else if (c.exit_frame) {
    reason = *c.exit_frame;
  }
  rt_.send(c.port, vigil::make_tuple(os_exit_tag(), reason, os_reason));
  c.pidfd.reset();
  if (on_exited_) {
    on_exited_(c);
  }
  if (e.out || e.err) {
    linger(e);
  }
  if (reap_orphans_) {
    (void)reap_orphans();
    auto now = std::chrono::steady_clock::now();
    sweeps_.clear();
    for (auto after : {20, 200, 2000}) {
      sweeps_.push_back(now + std::chrono::milliseconds(after));
    }
  }
}

void reactor::linger(entry& e) {
  lingering_.push_back(e.id);
  while (lingering_.size() > max_lingering) {
    // Never `e` (the newest): erasing another entry leaves the caller's iterators valid.
    auto it = entries_.find(lingering_.front());
    lingering_.pop_front();
    if (it == entries_.end()) {
      continue;
    }
    // What the descendant writes from now on gets EPIPE: its leader is long gone.
    close_pipe(it->second.out);
    close_pipe(it->second.err);
    drop_checks(it->second);
    entries_.erase(it);
    std::lock_guard lock(mutex_);
    --count_;
  }
}

void reactor::forget_lingering(std::uint64_t id) {
  if (auto it = std::find(lingering_.begin(), lingering_.end(), id); it != lingering_.end()) {
    lingering_.erase(it);
  }
}

int reactor::next_timeout_ms() {
  int ms = next_sweep_ms();
  auto sooner = [&ms](int other) { ms = ms < 0 ? other : std::min(ms, other); };
  if (emptying_ > 0) {
    sooner(cgroup_poll_ms);
  }
  if (auto checks = next_check_ms()) {
    sooner(*checks);
  }
  auto now = std::chrono::steady_clock::now();
  auto until = [&](std::chrono::steady_clock::time_point t) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
    sooner(static_cast<int>(std::clamp<std::int64_t>(left, 0, 24 * 3600 * 1000)));
  };
  for (const auto& d : attach_deadlines_) {
    until(d.first);
  }
  for (std::uint64_t id : blocked_) {
    if (auto it = entries_.find(id); it != entries_.end() && it->second.pump) {
      until(it->second.pump->retry_at());
    }
  }
  return ms;
}

int reactor::next_sweep_ms() {
  if (sweeps_.empty()) {
    return -1;
  }
  auto left = std::chrono::ceil<std::chrono::milliseconds>(sweeps_.front()
                                                           - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

void reactor::sweep_orphans() {
  auto now = std::chrono::steady_clock::now();
  bool due = false;
  while (!sweeps_.empty() && sweeps_.front() <= now) {
    sweeps_.erase(sweeps_.begin());
    due = true;
  }
  if (due) {
    (void)reap_orphans();
  }
}

void reactor::finish_all() {
  add_pending();
  for (auto& [id, e] : entries_) {
    if (!e.exited) {
      e.child->signal_group(SIGKILL);
      pollfd p{e.child->pidfd.get(), POLLIN, 0};
      (void)::poll(&p, 1, 5000);
      on_exit(e);
    }
    if (e.events) {
      // Going away: wait (bounded) for the cgroup to empty, then finish regardless.
      while (cgroup_tree::read_populated(e.events.get()).value_or(false)
             && std::chrono::steady_clock::now() < e.empty_deadline) {
        pollfd p{e.events.get(), POLLPRI, 0};
        (void)::poll(&p, 1, cgroup_poll_ms);
      }
      check_empty(e, true);
    }
  }
  entries_.clear();
  lingering_.clear();
  checking_ = 0;
  std::lock_guard lock(mutex_);
  count_ = 0;
}

} // namespace vigil::os::detail
