// SPDX-License-Identifier: Apache-2.0
// The event loop (server.hpp): the epoll loop, signals, accepting and admitting clients,
// timers, posts from processes to connections, and the stop and reload it starts.
#include "server.hpp"

#include "vigil/daemon/auth.hpp"
#include "vigil/os/reaper.hpp"
#include "vigil/supervision/client.hpp"

#include "event_hub.hpp"
#include "event_store.hpp"
#include "live_reload.hpp"
#include "notify.hpp"
#include "outbox.hpp"
#include "protocol_vocabulary.hpp"
#include "server_connection.hpp"
#include "session.hpp"
#include "state.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <vector>

namespace vigil::daemon {
namespace {

enum tag : std::uint64_t { tag_signals = 1, tag_listener = 2, tag_outbox = 3 };

/// One error line to a connection that will not be served, without waiting for the peer.
void refuse(int fd, error_code code, const std::string& message) {
  std::string line = reply_error("null", code, message);
  (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

unique_fd open_spare_fd() {
  return unique_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

/// How long a stopping daemon keeps trying to deliver what its clients have not read.
constexpr std::chrono::milliseconds finish_grace{1000};

/// How long the stopper waits for the hub to report the stopped root's exit.
constexpr timeout drain_limit{2000};

task<> stopper(context& self, daemon_state& st) {
  protected_scope guard(st.guarded, self.self(), std::string("vigild's stopper"));
  pid root = st.root();
  st.retire_root(root);
  (void)co_await supervision::stop_supervisor(self, root, atoms::shutdown);
  // Every process of the tree is dead now, and every child's exit was told by its
  // supervisor before that supervisor exited; the root's own process_exited comes from the
  // hub's DOWN, which may still be on its way: the followers' streams end at tree_stopped,
  // after it.
  if (!co_await drain_events(self, st, drain_limit)) {
    spdlog::warn("the event hub did not report every exit of the stopped tree within {} ms",
                 drain_limit.count());
  }
  st.out.push({post_kind::tree_stopped, 0, {}, 0});
}

task<> reloader(context& self, daemon_state& st) {
  protected_scope guard(st.guarded, self.self(), std::string("vigild's reloader"));
  auto r = co_await reload_config(self, st, false);
  if (r.busy) {
    spdlog::warn("SIGHUP: a reload is already in progress; this one is ignored");
  }
}

} // namespace

server::server(daemon_state& st, unique_fd listener, std::string socket_path, unique_fd signals)
    : st_(st), epoll_(::epoll_create1(EPOLL_CLOEXEC)), listener_(std::move(listener)),
      socket_path_(std::move(socket_path)), signals_(std::move(signals)),
      spare_fd_(open_spare_fd()),
      refusals_([](const std::string& line) { spdlog::warn("{}", line); }) {
  add_fd(signals_.get(), tag_signals, EPOLLIN);
  add_fd(listener_.get(), tag_listener, EPOLLIN);
  add_fd(st_.out.fd(), tag_outbox, EPOLLIN);
  if (auto timeout = watchdog_timeout_from_env()) {
    watchdog_.emplace(st_.rt, *timeout);
  }
}

server::~server() = default;

void server::add_fd(int fd, std::uint64_t t, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = t;
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
}

int server::run() {
  std::array<epoll_event, 64> events{};
  while (!finished()) {
    int wait_ms = -1;
    if (finishing_) {
      auto left = finish_by_ - std::chrono::steady_clock::now();
      wait_ms = static_cast<int>(std::max<std::int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
    }
    if (watchdog_) {
      // The loop wakes for the watchdog only when systemd asked for one.
      wait_ms = wait_ms < 0 ? watchdog_->wait_ms() : std::min(wait_ms, watchdog_->wait_ms());
    }
    if (listener_paused_) {
      // Descriptors may come free without a connection closing: try again each second.
      wait_ms = wait_ms < 0 ? 1000 : std::min(wait_ms, 1000);
    }
    if (next_check_ != std::chrono::steady_clock::time_point::max()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(next_check_
                                                               - std::chrono::steady_clock::now());
      int check_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 3'600'000));
      wait_ms = wait_ms < 0 ? check_ms : std::min(wait_ms, check_ms);
    }
    int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), wait_ms);
    if (n < 0 && errno != EINTR) {
      spdlog::critical("unable to epoll_wait: {}", std::strerror(errno));
      return 111;
    }
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[static_cast<std::size_t>(i)];
      if (ev.data.u64 == tag_signals) {
        on_signals();
      } else if (ev.data.u64 == tag_listener) {
        on_accept();
      } else if (ev.data.u64 == tag_outbox) {
        on_outbox();
      } else if (auto it = conns_.find(ev.data.u64); it != conns_.end()) {
        connection& c = *it->second;
        if ((ev.events & (EPOLLERR | EPOLLHUP)) != 0) {
          peer_gone(c);
          continue;
        }
        if ((ev.events & EPOLLOUT) != 0) {
          flush(c);
        }
        if (conns_.contains(ev.data.u64) && (ev.events & EPOLLIN) != 0) {
          on_readable(c);
        }
      }
    }
    if (watchdog_) {
      watchdog_->tick(status_text());
    }
    if (listener_paused_ && std::chrono::steady_clock::now() >= resume_at_) {
      resume_accepting();
    }
    if (std::chrono::steady_clock::now() >= next_check_) {
      check_timers();
    }
  }
  conns_.clear();
  if (::unlink(socket_path_.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("unable to remove {}: {}", socket_path_, std::strerror(errno));
  }
  return exit_code_;
}

std::string server::status_text() const {
  if (stopping_) {
    return "stopping the tree";
  }
  if (st_.reloading.load()) {
    return "reloading the config";
  }
  return "running: " + std::to_string(st_.rt.process_count()) + " processes, "
         + std::to_string(conns_.size()) + " control connections";
}

bool server::finished() const {
  return finishing_ && (conns_.empty() || std::chrono::steady_clock::now() >= finish_by_);
}

void server::on_signals() {
  signalfd_siginfo info{};
  while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
    switch (info.ssi_signo) {
    case SIGTERM:
    case SIGINT:
      if (stopping_) {
        spdlog::warn("second stop signal: exiting without waiting for the tree");
        exit_code_ = 111;
        begin_finish();
        finish_by_ = std::chrono::steady_clock::now();
      } else {
        spdlog::info("{}: stopping the tree", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        begin_shutdown(0);
      }
      break;
    case SIGHUP: start_reload(); break;
    case SIGCHLD:
      // Orphans only: OS-process workers reap their own children through pidfds, and a
      // waitpid(-1) here would steal their exit statuses (vigil/os/reaper.hpp).
      (void)os::reap_orphans();
      break;
    default: break;
    }
  }
}

void server::start_reload() {
  if (stopping_) {
    return;
  }
  spdlog::info("SIGHUP: reloading {}", st_.config_path.string());
  st_.rt.spawn(reloader, st_);
}

void server::on_accept() {
  for (;;) {
    unique_fd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      int err = errno;
      if (err == EMFILE || err == ENFILE) {
        // Level-triggered epoll would report the listener again at once: take the
        // connection off the queue instead of spinning on it.
        shed_connection(err);
      } else if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
        spdlog::warn("unable to accept a connection: {}", std::strerror(err));
      }
      return;
    }
    if (out_of_fds_) {
      out_of_fds_ = false;
      spdlog::info("file descriptors available again: accepting control connections");
    }
    admit(std::move(fd));
  }
}

void server::shed_connection(int accept_errno) {
  if (!out_of_fds_) {
    out_of_fds_ = true;
    spdlog::warn("unable to accept a control connection: {}; refusing new connections until "
                 "descriptors are freed (raise LimitNOFILE / ulimit -n)",
                 std::strerror(accept_errno));
  }
  spare_fd_.reset();
  bool shed = false;
  if (unique_fd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC)); fd) {
    refuse(fd.get(), error_code::failed, "vigild is out of file descriptors");
    shed = true;
  }
  spare_fd_ = open_spare_fd();
  if (!shed && !spare_fd_) {
    // Not even the reserve could be had back: stop watching the listener rather than
    // spinning; a connection that closes re-arms it (see drop), or the next second (run).
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
    listener_paused_ = true;
    resume_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  }
}

void server::resume_accepting() {
  if (listener_paused_ && listener_) {
    listener_paused_ = false;
    add_fd(listener_.get(), tag_listener, EPOLLIN);
  }
}

void server::refuse_client(int fd, std::uint32_t uid, error_code code, const std::string& reply,
                           const std::string& warning, const std::string& why) {
  // On record before the reply: a refused client (or a test) that reads its error finds the
  // refusal already in the log.
  auto now = std::chrono::steady_clock::now();
  refusals_.refused(warning, "uid " + std::to_string(uid), why, now);
  if (auto due = refusals_.tick(now)) {
    arm(*due);
  }
  refuse(fd, code, reply);
}

void server::admit(unique_fd fd) {
  auto peer = read_peer_credentials(fd.get());
  auto policy = st_.policy();
  if (!peer || !authorized(*peer, policy)) {
    std::string who = peer ? "uid " + std::to_string(peer->uid) : "an unknown peer";
    refuse_client(fd.get(), peer ? peer->uid : ~0U, error_code::unauthorized,
                  who
                      + " may not use this socket; see allowed_users and "
                        "allowed_groups in docs/config.md",
                  "refused a control connection from " + who + " (pid "
                      + std::to_string(peer ? peer->pid : 0) + ")",
                  "not allowed");
    return;
  }
  bool trusted = trusted_peer(peer->uid, policy);
  auto per_user = static_cast<std::size_t>(st_.config()->daemon.max_connections_per_user);
  auto verdict = quota_.check(conns_.size(), peer->uid, trusted, per_user);
  std::string who = "uid " + std::to_string(peer->uid);
  if (verdict == connection_quota::verdict::full) {
    refuse_client(fd.get(), peer->uid, error_code::failed, "too many connections",
                  "refused a control connection from " + who + ": " + std::to_string(conns_.size())
                      + " connections are open",
                  "too many connections");
    return;
  }
  if (verdict == connection_quota::verdict::user_full) {
    std::size_t mine = quota_.of(peer->uid);
    refuse_client(fd.get(), peer->uid, error_code::failed,
                  "too many connections: " + who + " has " + std::to_string(mine)
                      + ", the most one user may have (daemon.max_connections_per_user)",
                  "refused a control connection from " + who + ": it has " + std::to_string(mine)
                      + " (daemon.max_connections_per_user)",
                  "max_connections_per_user");
    return;
  }
  auto c = std::make_unique<connection>();
  c->id = next_id_++;
  c->fd = std::move(fd);
  c->uid = peer->uid;
  c->trusted = trusted;
  c->accepted = std::chrono::steady_clock::now();
  c->channel = std::make_shared<session_channel>(c->id, peer->uid);
  auto session = start_session(st_, c->channel);
  if (!session) {
    spdlog::error("unable to start a session process: {}", session.error().message());
    return;
  }
  c->session = *session;
  watch_session(st_, c->session, c->id);
  add_fd(c->fd.get(), c->id, EPOLLIN);
  spdlog::debug("control connection {} from uid {} (pid {}), session {}", c->id, peer->uid,
                peer->pid, to_string(term(c->session)));
  arm(c->accepted + st_.config()->daemon.first_request_timeout);
  quota_.opened(c->uid);
  conns_.emplace(c->id, std::move(c));
}

void server::arm(std::chrono::steady_clock::time_point when) {
  next_check_ = std::min(next_check_, when);
}

void server::check_timers() {
  using clock = std::chrono::steady_clock;
  auto now = clock::now();
  next_check_ = clock::time_point::max();
  auto cfg = st_.config();
  const auto first_request = cfg->daemon.first_request_timeout;
  const auto slow_reader = cfg->daemon.slow_reader_timeout;
  std::vector<std::uint64_t> idle;
  std::vector<std::uint64_t> stalled;
  for (const auto& [id, c] : conns_) {
    if (c->gone) {
      continue;
    }
    if (!c->requested && !c->input_done) {
      auto due = c->accepted + first_request;
      if (now >= due) {
        idle.push_back(id);
        continue;
      }
      arm(due);
    }
    if (c->reply_bytes > 0) {
      auto due = c->last_write + slow_reader;
      if (now >= due) {
        stalled.push_back(id);
        continue;
      }
      arm(due);
    }
  }
  for (auto id : idle) {
    connection& c = *conns_.at(id);
    spdlog::debug("control connection {} (uid {}) sent no request within {} ms; closing it", id,
                  c.uid, first_request.count());
    refuse(c.fd.get(), error_code::failed,
           "no request within " + std::to_string(first_request.count())
               + " ms (daemon.first_request_timeout); closing the connection");
    drop(id);
  }
  for (auto id : stalled) {
    connection& c = *conns_.at(id);
    spdlog::warn("control connection {} (uid {}) does not read its replies ({} bytes waiting, "
                 "none read for {} ms); disconnecting it",
                 id, c.uid, c.waiting, slow_reader.count());
    drop(id);
  }
  if (auto due = refusals_.tick(now)) {
    arm(*due);
  }
}

void server::on_outbox() {
  for (auto& p : st_.out.take()) {
    handle(p);
  }
}

void server::handle(post& p) {
  auto it = conns_.find(p.conn);
  connection* c = it == conns_.end() ? nullptr : it->second.get();
  switch (p.kind) {
  case post_kind::line:
  case post_kind::reply:
    if (c != nullptr && !p.text.empty()) {
      append_output(*c, std::move(p.text), p.kind == post_kind::reply);
    }
    return;
  case post_kind::close:
    if (c != nullptr) {
      c->close_when_flushed = true;
      flush(*c);
    }
    return;
  case post_kind::done:
    if (c != nullptr) {
      c->pending -= c->pending > 0 ? 1 : 0;
      if (!c->input_done) {
        // Room for one more: a line that waited in the buffer (queue_lines).
        std::size_t before = c->pending;
        queue_lines(*c);
        if (c->pending != before) {
          st_.rt.send(c->session, session_wake());
        }
      }
      watch(*c);
    }
    return;
  case post_kind::shutdown:
    if (!stopping_) {
      spdlog::info("shutdown requested on control connection {}: stopping the tree", p.conn);
    }
    begin_shutdown(p.code);
    return;
  case post_kind::fatal: begin_shutdown(p.code); return;
  case post_kind::tree_stopped: begin_finish(); return;
  case post_kind::root_down:
    if (!stopping_) {
      stopping_ = true;
      st_.stopping.store(true);
      exit_code_ = p.code;
      st_.events.daemon_stopping(exit_code_);
      notify_systemd("STOPPING=1\nSTATUS=stopping the tree");
      begin_finish();
    }
    return;
  }
}

void server::begin_shutdown(int code) {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  exit_code_ = code;
  st_.stopping.store(true);
  st_.events.daemon_stopping(exit_code_);
  notify_systemd("STOPPING=1\nSTATUS=stopping the tree");
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
  listener_.reset();
  st_.rt.spawn(stopper, st_);
}

void server::begin_finish() {
  if (finishing_) {
    return;
  }
  finishing_ = true;
  finish_by_ = std::chrono::steady_clock::now() + finish_grace;
  std::vector<std::uint64_t> ids;
  for (const auto& [id, c] : conns_) {
    ids.push_back(id);
  }
  for (auto id : ids) {
    auto it = conns_.find(id);
    it->second->close_when_flushed = true;
    flush(*it->second);
  }
}

} // namespace vigil::daemon
