// SPDX-License-Identifier: Apache-2.0
// One attempt of a tcp, http or exec check (probe.hpp): non-blocking connects, a minimal
// HTTP/1.1 GET that reads only the status line, and exec probes launched like any OS child
// and reaped through their pidfd. Targets and status lines are parsed strictly.
#include "probe.hpp"

#include "vigil/os/exit_reason.hpp"
#include "vigil/os/reaper.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#ifndef P_PIDFD
#  define P_PIDFD 3
#endif

namespace vigil::os::detail {
namespace {

/// The most of a response read before its status line must have ended.
constexpr std::size_t max_status_line = 1024;
/// How long a killed exec probe may take to die before the orphan reaper is left to reap it.
constexpr int exec_kill_wait_ms = 100;

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc() || end != s.data() + s.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(port);
}

std::optional<endpoint> make_endpoint(std::string host, std::uint16_t port) {
  endpoint e;
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    e.len = sizeof(sockaddr_in);
    return e;
  }
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    e.len = sizeof(sockaddr_in6);
    return e;
  }
  return std::nullopt; // names are not resolved: that would block the reactor
}

/// Splits "host:port" or "[v6]:port"; the port may be absent when `default_port` is set.
std::optional<endpoint> split_host_port(std::string_view s, std::optional<std::uint16_t> dflt) {
  std::string host;
  std::string_view rest;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = std::string(s.substr(1, close - 1));
    rest = s.substr(close + 1);
  } else {
    auto colon = s.rfind(':');
    host = std::string(s.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
  }
  std::optional<std::uint16_t> port = dflt;
  if (!rest.empty()) {
    if (rest.front() != ':') {
      return std::nullopt;
    }
    port = parse_port(rest.substr(1));
  }
  if (!port || host.empty()) {
    return std::nullopt;
  }
  return make_endpoint(host, *port);
}

std::string errno_text(int err) {
  return std::strerror(err);
}

} // namespace

std::optional<endpoint> parse_endpoint(const std::string& host_port) {
  return split_host_port(host_port, std::nullopt);
}

std::optional<http_target> parse_http_url(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(url).substr(scheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  for (char ch : path) {
    // The path goes into the request line as it is: nothing that could end or split it.
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return std::nullopt;
    }
  }
  if (authority.find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  auto where = split_host_port(authority, 80);
  if (!where) {
    return std::nullopt;
  }
  return http_target{*where, std::string(authority), std::move(path)};
}

std::optional<int> parse_status_line(std::string_view line) {
  // HTTP/1.x SP 3DIGIT (SP reason)?
  constexpr std::string_view prefix = "HTTP/1.";
  if (line.size() < 12 || line.compare(0, prefix.size(), prefix) != 0 || line[7] < '0'
      || line[7] > '9' || line[8] != ' ') {
    return std::nullopt;
  }
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      return std::nullopt;
    }
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') {
    return std::nullopt;
  }
  return code < 100 ? std::nullopt : std::optional<int>(code);
}

std::string describe(const supervision::probe_spec& spec) {
  using supervision::probe_kind;
  switch (spec.kind) {
  case probe_kind::tcp: return "tcp " + spec.target;
  case probe_kind::http: return "http " + spec.target;
  case probe_kind::exec: return "exec " + (spec.command.empty() ? "" : spec.command.front());
  case probe_kind::log: return "log " + spec.target;
  case probe_kind::notify: return "notify READY=1";
  case probe_kind::started: break;
  }
  return "started";
}

std::string format_duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + "s";
  }
  return std::to_string(d.count()) + "ms";
}

probe_attempt::probe_attempt(const supervision::probe_spec& spec, const launch_spec& exec)
    : kind_(spec.kind), want_status_(spec.status) {
  using supervision::probe_kind;
  if (kind_ == probe_kind::tcp) {
    auto where = parse_endpoint(spec.target);
    if (!where) {
      finish(false, "not an address and port");
      return;
    }
    start_connect(*where);
  } else if (kind_ == probe_kind::http) {
    auto target = parse_http_url(spec.target);
    if (!target) {
      finish(false, "not an http:// URL with an IP address");
      return;
    }
    request_ = "GET " + target->path + " HTTP/1.1\r\nHost: " + target->host
               + "\r\nUser-Agent: vigil\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    start_connect(target->where);
  } else if (kind_ == probe_kind::exec) {
    start_exec(spec, exec);
  } else {
    finish(false, "not a check that runs by itself");
  }
}

probe_attempt::~probe_attempt() {
  if (exec_pid_ > 0) {
    ::kill(-exec_pid_, SIGKILL);
    pollfd p{fd_.get(), POLLIN, 0};
    (void)::poll(&p, 1, exec_kill_wait_ms);
    siginfo_t info{};
    (void)::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd_.get()), &info,
                   WEXITED | WNOHANG);
    (void)take_status(exec_pid_);
    // Not reaped yet (stuck in the kernel): the orphan reaper takes it once it dies.
    disown(exec_pid_);
  }
}

int probe_attempt::fd() const {
  return outcome_ ? -1 : fd_.get();
}

void probe_attempt::finish(bool ok, std::string error) {
  outcome_ = probe_outcome{ok, std::move(error)};
  events_ = 0;
}

void probe_attempt::start_connect(const endpoint& where) {
  fd_.reset(::socket(where.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) {
    finish(false, errno_text(errno));
    return;
  }
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&where.addr), where.len) == 0) {
    connected_ = true;
    if (kind_ == supervision::probe_kind::tcp) {
      finish(true, {});
    } else {
      step_http();
    }
    return;
  }
  if (errno != EINPROGRESS) {
    finish(false, errno_text(errno));
    return;
  }
  events_ = EPOLLOUT;
}

void probe_attempt::start_exec(const supervision::probe_spec& spec, const launch_spec& exec) {
  if (spec.command.empty()) {
    finish(false, "no command");
    return;
  }
  launch_spec ls = exec;
  ls.program = spec.command.front();
  ls.argv = spec.command;
  ls.fds = {-1, -1, -1}; // output discarded
  // ls.cgroup_fd is the child's cgroup (service.cpp), when it has one: whatever the probe
  // leaves, a daemonized process too, ends with the child's incarnation.
  ls.new_session = true;
  launch_guard guard;
  auto l = launch(ls);
  if (!l) {
    finish(false, l.error().message());
    return;
  }
  adopt(l->pid);
  exec_pid_ = l->pid;
  fd_ = std::move(l->pidfd);
  events_ = EPOLLIN;
}

std::optional<probe_outcome> probe_attempt::step() {
  if (outcome_) {
    return outcome_;
  }
  if (kind_ == supervision::probe_kind::exec) {
    step_exec();
  } else if (!connected_) {
    step_connect();
  } else {
    step_http();
  }
  return outcome_;
}

void probe_attempt::step_connect() {
  // The event may be stale (an earlier descriptor's): ask the socket itself.
  pollfd p{fd_.get(), POLLOUT, 0};
  if (::poll(&p, 1, 0) <= 0) {
    return;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  if (err != 0) {
    finish(false, errno_text(err));
    return;
  }
  if ((p.revents & POLLOUT) == 0) {
    return;
  }
  connected_ = true;
  if (kind_ == supervision::probe_kind::tcp) {
    finish(true, {});
    return;
  }
  step_http();
}

void probe_attempt::step_http() {
  while (sent_ < request_.size()) {
    ssize_t n = ::send(fd_.get(), request_.data() + sent_, request_.size() - sent_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        events_ = EPOLLOUT;
        return;
      }
      finish(false, errno_text(errno));
      return;
    }
    sent_ += static_cast<std::size_t>(n);
  }
  events_ = EPOLLIN;
  for (;;) {
    char buf[512];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        finish(false, errno_text(errno));
      }
      return;
    }
    if (n == 0) {
      finish(false, "connection closed before a status line");
      return;
    }
    response_.append(buf, static_cast<std::size_t>(n));
    auto eol = response_.find('\n');
    if (eol != std::string::npos) {
      std::string_view line(response_.data(), eol);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      auto code = parse_status_line(line);
      if (!code) {
        finish(false, "malformed status line");
      } else if (static_cast<std::uint32_t>(*code) != want_status_) {
        finish(false, "status " + std::to_string(*code));
      } else {
        finish(true, {});
      }
      return;
    }
    if (response_.size() >= max_status_line) {
      finish(false, "malformed status line");
      return;
    }
  }
}

void probe_attempt::step_exec() {
  siginfo_t info{};
  // WNOWAIT: the probe stays a zombie, which pins its pid and so its group's id, while what
  // it left in its group (`sleep 100 &`) is killed; then it is reaped. Reaped first, its
  // group could not be signalled safely any more, and what it left ran on, past the
  // child's stop and vigild's exit.
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd_.get()), &info,
               WEXITED | WNOHANG | WNOWAIT)
      != 0) {
    auto kept = take_status(exec_pid_);
    if (!kept) {
      if (errno == EINTR) {
        return;
      }
      end_exec();
      finish(false, "its status was lost");
      return;
    }
    info = *kept;
  } else if (info.si_pid == 0) {
    return; // still running
  } else {
    ::kill(-exec_pid_, SIGKILL);
    siginfo_t reaped{};
    (void)::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd_.get()), &reaped,
                   WEXITED | WNOHANG);
  }
  end_exec();
  if (info.si_code == CLD_EXITED && info.si_status == 0) {
    finish(true, {});
    return;
  }
  if (info.si_code == CLD_EXITED) {
    finish(false, "exit status " + std::to_string(info.si_status));
  } else {
    finish(false, "killed by " + signal_name(info.si_status));
  }
}

void probe_attempt::end_exec() {
  // Reaped: its pid (and so its group id) may be reused from now on, so nothing is signalled.
  disown(exec_pid_);
  exec_pid_ = 0;
}

} // namespace vigil::os::detail
