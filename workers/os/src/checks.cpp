// SPDX-License-Identifier: Apache-2.0
// child_checks (checks.hpp): one OS child's notify socket, readiness probe, health check and
// watchdog, on the reactor's thread. Whatever arrives on the notify socket is untrusted: a
// datagram counts only when its sender (SCM_CREDENTIALS) is in the child's cgroup, process
// group or session, and only when it parses.
#include "checks.hpp"

#include "vigil/os/cgroup.hpp"
#include "vigil/supervision/log_regex.hpp"

#include "notify.hpp"
#include "readiness.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>

namespace vigil::os::detail {
namespace {

using supervision::probe_kind;

/// Datagrams read per wake-up before the other children are served.
constexpr int notify_budget = 64;

bool runs_by_itself(probe_kind k) {
  return k == probe_kind::tcp || k == probe_kind::http || k == probe_kind::exec;
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

std::optional<std::string> probe_problem(const supervision::probe_spec& spec) {
  switch (spec.kind) {
  case probe_kind::log: try { (void)supervision::compile_log_regex(spec.target);
    } catch (const std::regex_error& e) {
      return "log: '" + spec.target + "' is not a valid regex: " + e.what();
    }
    break;
  case probe_kind::tcp:
    if (!parse_endpoint(spec.target)) {
      return "tcp: '" + spec.target + "' is not an IP address and port";
    }
    break;
  case probe_kind::http:
    if (!parse_http_url(spec.target)) {
      return "http: '" + spec.target + "' is not an http:// URL with an IP address (no TLS)";
    }
    break;
  case probe_kind::exec:
    if (spec.command.empty()) {
      return "exec: no command";
    }
    break;
  case probe_kind::started:
  case probe_kind::notify: break;
  }
  return std::nullopt;
}

bool needs_checks(const os_child& c) {
  return c.ready.kind != probe_kind::started || runs_by_itself(c.health.kind)
         || c.watchdog.count() > 0 || c.notify_fd;
}

child_checks::child_checks(runtime& rt, os_child& c, int epoll_fd, std::uint64_t notify_tag,
                           std::uint64_t probe_tag)
    : rt_(rt), c_(c), epoll_(epoll_fd), notify_tag_(notify_tag), probe_tag_(probe_tag) {
  auto now = clock::now();
  if (c_.notify_fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = notify_tag_;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c_.notify_fd.get(), &ev);
  }
  if (c_.ready.kind == probe_kind::log) {
    try {
      log_regex_ = supervision::compile_log_regex(c_.ready.target);
    } catch (const std::regex_error&) {
      record(describe(c_.ready), {false, "not a valid regex"}); // service::start refuses these
    }
  }
  if (c_.ready.kind == probe_kind::started) {
    enter_running(now);
    return;
  }
  tell(waiting_tag(), describe(c_.ready));
  if (runs_by_itself(c_.ready.kind)) {
    next_attempt_ = now;
  }
}

child_checks::~child_checks() {
  stop();
}

const supervision::probe_spec& child_checks::current() const {
  return phase_ == phase::readying ? c_.ready : c_.health;
}

void child_checks::tell(atom tag, const std::string& text) {
  // Through the port, so that the supervisor hears it before the port's own end.
  rt_.send(c_.port, vigil::make_tuple(tag, c_.port, text));
}

void child_checks::become_ready(const std::string& text) {
  if (phase_ != phase::readying) {
    return;
  }
  {
    std::lock_guard lock(c_.health_mutex);
    c_.health_report.ready = true;
  }
  tell(ready_tag(), text);
  enter_running(clock::now());
}

void child_checks::enter_running(clock::time_point now) {
  phase_ = phase::running;
  failures_ = 0;
  attempt_.reset();
  next_attempt_.reset();
  if (runs_by_itself(c_.health.kind)) {
    next_attempt_ = now + c_.health.interval;
  }
  if (c_.watchdog.count() > 0 && c_.notify_fd) {
    watchdog_deadline_ = now + c_.watchdog;
  }
}

void child_checks::begin_attempt(clock::time_point now) {
  next_attempt_.reset();
  const auto& spec = current();
  attempt_ = std::make_unique<probe_attempt>(spec, c_.probe_launch);
  attempt_deadline_ = now + spec.timeout;
  if (attempt_->done()) {
    end_attempt(*attempt_->done(), now);
    return;
  }
  arm();
}

void child_checks::arm() {
  int fd = attempt_ ? attempt_->fd() : -1;
  std::uint32_t events = attempt_ ? attempt_->events() : 0;
  if (armed_fd_ >= 0 && (fd != armed_fd_ || events == 0)) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, armed_fd_, nullptr);
    armed_fd_ = -1;
    armed_events_ = 0;
  }
  if (fd < 0 || events == 0 || (fd == armed_fd_ && events == armed_events_)) {
    return;
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = probe_tag_;
  ::epoll_ctl(epoll_, armed_fd_ == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  armed_fd_ = fd;
  armed_events_ = events;
}

void child_checks::on_probe() {
  if (!attempt_) {
    return; // a stale event of an attempt already over
  }
  if (auto o = attempt_->step()) {
    end_attempt(*o, clock::now());
  } else {
    arm();
  }
}

void child_checks::end_attempt(const probe_outcome& o, clock::time_point now) {
  if (armed_fd_ >= 0) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, armed_fd_, nullptr);
    armed_fd_ = -1;
    armed_events_ = 0;
  }
  attempt_.reset();
  const auto& spec = current();
  std::string check = describe(spec);
  record(check, o);
  if (phase_ == phase::readying) {
    if (o.ok) {
      become_ready({});
      return;
    }
    std::string detail = check + ": " + o.error;
    if (detail != last_waiting_) {
      last_waiting_ = detail;
      tell(waiting_tag(), detail);
    }
    next_attempt_ = now + spec.interval;
    return;
  }
  if (phase_ != phase::running) {
    return;
  }
  failures_ = o.ok ? 0 : failures_ + 1;
  if (failures_ >= std::max<std::uint32_t>(1, spec.failures)) {
    unhealthy(check + ": " + o.error);
    return;
  }
  next_attempt_ = now + spec.interval;
}

void child_checks::record(const std::string& check, const probe_outcome& o) {
  std::lock_guard lock(c_.health_mutex);
  auto& r = c_.health_report;
  r.check = check;
  r.last_result = o.ok ? "ok" : o.error;
  r.last_check_unix_ms = unix_ms();
  r.consecutive_failures = o.ok ? 0 : r.consecutive_failures + 1;
}

void child_checks::unhealthy(std::string detail) {
  stop();
  c_.fail_health(std::move(detail));
}

void child_checks::on_timer(clock::time_point now) {
  if (phase_ == phase::stopped) {
    return;
  }
  if (attempt_ && now >= attempt_deadline_) {
    // One last look: an answer may have arrived with the deadline.
    auto o = attempt_->step();
    end_attempt(o ? *o
                  : probe_outcome{false, "timed out after " + format_duration(current().timeout)},
                now);
  }
  if (phase_ == phase::stopped) {
    return;
  }
  if (!attempt_ && next_attempt_ && now >= *next_attempt_) {
    begin_attempt(now);
  }
  if (watchdog_deadline_ && now >= *watchdog_deadline_) {
    unhealthy("watchdog: no WATCHDOG=1 for " + format_duration(c_.watchdog));
  }
}

std::optional<child_checks::clock::time_point> child_checks::next_deadline() const {
  std::optional<clock::time_point> t;
  auto sooner = [&t](clock::time_point other) { t = t ? std::min(*t, other) : other; };
  if (phase_ == phase::stopped) {
    return t;
  }
  if (attempt_) {
    sooner(attempt_deadline_);
  } else if (next_attempt_) {
    sooner(*next_attempt_);
  }
  if (watchdog_deadline_) {
    sooner(*watchdog_deadline_);
  }
  return t;
}

void child_checks::stop() {
  phase_ = phase::stopped;
  next_attempt_.reset();
  watchdog_deadline_.reset();
  if (armed_fd_ >= 0) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, armed_fd_, nullptr);
    armed_fd_ = -1;
  }
  attempt_.reset();
  if (c_.notify_fd) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c_.notify_fd.get(), nullptr);
    c_.notify_fd.reset();
    if (!c_.notify_path.empty()) {
      (void)::unlink(c_.notify_path.c_str());
    }
  }
}

void child_checks::on_lines(std::span<const std::string_view> lines) {
  if (phase_ != phase::readying || !log_regex_) {
    return;
  }
  for (auto line : lines) {
    if (supervision::log_regex_finds(*log_regex_, line)) {
      record(describe(c_.ready), {true, {}});
      become_ready(std::string(line.substr(0, max_status_text)));
      return;
    }
  }
}

void child_checks::on_worker_ready(const std::string& text) {
  if (phase_ != phase::readying || c_.ready.kind != probe_kind::notify) {
    return;
  }
  {
    std::lock_guard lock(c_.health_mutex);
    auto& r = c_.health_report;
    if (!text.empty()) {
      r.status_text = text;
    }
    r.check = describe(c_.ready);
    r.last_result = "ok";
    r.last_check_unix_ms = unix_ms();
  }
  become_ready(text);
}

bool child_checks::belongs(pid_t p) const {
  if (p <= 0) {
    return false;
  }
  // The child leads its own session and group (setsid): its descendants keep the session
  // even when they make groups of their own, and no outside process can join either.
  if (p == c_.os_pid || ::getpgid(p) == c_.os_pid || ::getsid(p) == c_.os_pid) {
    return true;
  }
  if (!c_.cgroup_path.empty()) {
    auto procs = cgroup_tree::procs(c_.cgroup_path);
    return std::find(procs.begin(), procs.end(), p) != procs.end();
  }
  return false;
}

void child_checks::ignored() {
  std::lock_guard lock(c_.health_mutex);
  ++c_.health_report.notify_ignored;
}

void child_checks::on_notify() {
  if (!c_.notify_fd) {
    return;
  }
  for (int i = 0; i < notify_budget; ++i) {
    auto d = receive_notify(c_.notify_fd.get());
    if (!d) {
      return;
    }
    if (phase_ == phase::stopped) {
      continue;
    }
    if (d->truncated || !belongs(d->sender)) {
      ignored();
      continue;
    }
    auto m = parse_notify(d->data);
    if (!m) {
      ignored();
      continue;
    }
    std::string status;
    {
      std::lock_guard lock(c_.health_mutex);
      auto& r = c_.health_report;
      if (m->status) {
        r.status_text = *m->status;
      }
      if (m->main_pid && belongs(static_cast<pid_t>(*m->main_pid))) {
        r.main_pid = *m->main_pid;
      }
      if (m->errno_value) {
        r.notify_errno = *m->errno_value;
      }
      r.stopping = r.stopping || m->stopping;
      if (m->watchdog) {
        r.last_watchdog_unix_ms = unix_ms();
      }
      status = r.status_text;
    }
    if (m->watchdog && watchdog_deadline_) {
      watchdog_deadline_ = clock::now() + c_.watchdog;
    }
    if (m->ready && c_.ready.kind == probe_kind::notify) {
      {
        std::lock_guard lock(c_.health_mutex);
        c_.health_report.check = describe(c_.ready);
        c_.health_report.last_result = "ok";
        c_.health_report.last_check_unix_ms = unix_ms();
      }
      become_ready(status);
    } else if (m->status && phase_ == phase::readying && status != last_waiting_) {
      last_waiting_ = status;
      tell(waiting_tag(), status);
    }
  }
}

} // namespace vigil::os::detail
