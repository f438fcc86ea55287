// SPDX-License-Identifier: Apache-2.0
// The observer's listener (http_server.hpp), the one place besides hooks.cpp that includes
// Boost.Beast and Asio. A session per connection, on the service's own thread:
//
//   accept -> (Unix socket) peer credentials checked against the control socket's rules
//          -> read one request under the limits and the timeout -> authorize -> route
//          -> write -> next request (keep-alive), or hold the connection open for the
//             pushed events of /api/events (server-sent events).
//
// A request that breaks a limit gets its 4xx and the connection is closed; nothing a client
// sends can stop the loop (every handler catches what it can throw).
#include "http_server.hpp"

#include "vigil/common/file_trust.hpp"
#include "vigil/config/addresses.hpp"
#include "vigil/daemon/auth.hpp"
#include "vigil/daemon/daemon.hpp"

#include "connection_quota.hpp"
#include "counters.hpp"
#include "refusal_log.hpp"
#include "routes.hpp"
#include "state.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <deque>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

namespace vigil::observer {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

constexpr std::size_t header_limit = 8 * 1024;
constexpr std::size_t body_limit = 64 * 1024;
/// Connections served at once; the next ones are closed as they come.
constexpr std::size_t max_sessions = 256;
/// Unix peers the control socket does not allow, answered 401 at once, counted apart: they
/// once took the 256 sessions (each until the request timeout) and the observer from root.
constexpr std::size_t max_refused_sessions = 64;
/// Of the 256, the last ones are kept for root and vigild's own user on the Unix socket, as
/// on the control socket: other users (each also held to daemon.max_connections_per_user)
/// and anonymous TCP clients cannot take them all.
constexpr std::size_t reserved_sessions = 32;
/// Pushed events waiting for a slow page; past this it is disconnected (it reloads).
constexpr std::size_t max_pending_events = 4096;

/// Constant-time comparison, so that the token cannot be guessed byte by byte.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

/// The value of `token=` in the query of `target`, or empty.
std::string_view query_token(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) {
    return {};
  }
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("token=")) {
      return pair.substr(6);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return {};
}

} // namespace

/// The loop, for answers that come from another thread (a command's process): cleared,
/// under the mutex, once the loop is gone, and such answers are then dropped.
struct loop_handle {
  std::mutex mutex;
  asio::io_context* io = nullptr;
};

/// What the sessions share: the daemon, the config, the open event streams.
struct shared_state {
  daemon::daemon_state& st;
  event_counters& counters;
  std::string token;
  bool unix_socket = false;
  std::chrono::milliseconds request_timeout{30'000};
  std::size_t sessions = 0;
  /// Sessions of refused Unix peers (max_refused_sessions), never among `sessions`.
  std::size_t refused_sessions = 0;
  /// The Unix peers' sessions per uid, and who may open one more: the last
  /// reserved_sessions are root's and vigild's user's, and every other user is held to
  /// daemon.max_connections_per_user, as on the control socket.
  daemon::connection_quota quota{max_sessions, reserved_sessions};
  /// Sessions that follow the events (each a weak handle to its push function).
  std::list<std::function<bool(const std::string&)>> followers;
  /// Sessions waiting for a command's answer: held here, on the loop's thread, so that
  /// nothing but the loop ever owns (and destroys) one.
  std::set<std::shared_ptr<void>> waiting;
  std::shared_ptr<loop_handle> loop = std::make_shared<loop_handle>();
};

namespace {

template <class Protocol>
class session : public std::enable_shared_from_this<session<Protocol>> {
public:
  /// `counted_uid`: the Unix peer whose per-uid count this session is in.
  session(typename Protocol::socket socket, shared_state& shared, access peer,
          std::optional<unsigned> counted_uid = std::nullopt)
      : stream_(std::move(socket)), shared_(shared), peer_(peer),
        count_(peer.read ? shared.sessions : shared.refused_sessions), counted_uid_(counted_uid) {
    ++count_;
    if (counted_uid_) {
      shared_.quota.opened(*counted_uid_);
    }
  }

  ~session() {
    --count_;
    if (counted_uid_) {
      shared_.quota.closed(*counted_uid_);
    }
  }

  void start() { read(); }

private:
  void read() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(body_limit);
    // The whole request within the timeout: a client that trickles bytes is cut off.
    stream_.expires_after(shared_.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout
        || ec == asio::error::operation_aborted) {
      close();
      return;
    }
    if (ec) {
      unsigned status = 400;
      if (ec == http::error::header_limit) {
        status = 431;
      } else if (ec == http::error::body_limit) {
        status = 413;
      }
      reply_and_close(status,
                      std::string(http::obsolete_reason(static_cast<http::status>(status))) + "\n");
      return;
    }
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> req) {
    access allowed = peer_;
    if (!shared_.token.empty()) {
      // With a token configured every request carries it, on any transport.
      auto it = req.find(http::field::authorization);
      constexpr std::string_view bearer = "Bearer ";
      std::string_view value;
      if (it != req.end()) {
        value = std::string_view(it->value().data(), it->value().size());
      }
      bool ok =
          value.starts_with(bearer) && same_secret(value.substr(bearer.size()), shared_.token);
      if (!ok && req.method() == http::verb::get) {
        // A browser's navigation and its EventSource cannot send the header: ?token=...
        ok = same_secret(query_token(std::string_view(req.target().data(), req.target().size())),
                         shared_.token);
      }
      if (!ok) {
        allowed = {};
      } else if (!shared_.unix_socket) {
        allowed = {true, true, allowed.uid};
      }
    }
    http_request r{std::string(req.method_string()), std::string(req.target()), req.body(),
                   req["X-Vigil-Action"] == "1"};
    if (!allowed.read) {
      auto res = make(req, 401, "text/plain; charset=utf-8", "unauthorized\n");
      res.set(http::field::www_authenticate, "Bearer");
      res.keep_alive(false);
      write(std::move(res), true);
      return;
    }
    if (r.method == "GET" && (r.target == "/api/events" || r.target.starts_with("/api/events?"))) {
      follow(req);
      return;
    }
    if (run_command(r, allowed, req.version(), req.keep_alive())) {
      return;
    }
    http_response out;
    try {
      out = route(shared_.st, shared_.counters, r, allowed);
    } catch (const std::exception& e) {
      out = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
    }
    auto res = make(req, out.status, out.content_type, std::move(out.body));
    write(std::move(res), !res.keep_alive());
  }

  /// The endpoints that run a daemon command: the session waits (reading nothing more)
  /// until the command's process answers, then writes the answer from the loop.
  bool run_command(const http_request& r, access allowed, unsigned version, bool keep_alive) {
    auto self = this->shared_from_this();
    std::weak_ptr<session> weak = self;
    std::shared_ptr<loop_handle> loop = shared_.loop;
    bool deferred = false;
    try {
      deferred = route_command(
          shared_.st, r, allowed, [weak, loop, version, keep_alive](http_response out) {
            std::lock_guard lock(loop->mutex);
            if (loop->io == nullptr) {
              return;
            }
            asio::post(*loop->io, [weak, version, keep_alive, out = std::move(out)]() mutable {
              if (auto s = weak.lock()) {
                s->shared_.waiting.erase(s);
                auto res =
                    s->make(version, keep_alive, out.status, out.content_type, std::move(out.body));
                s->write(std::move(res), !res.keep_alive());
              }
            });
          });
    } catch (const std::exception& e) {
      auto res = make(version, keep_alive, 500, "text/plain; charset=utf-8",
                      std::string("internal error: ") + e.what() + "\n");
      write(std::move(res), !res.keep_alive());
      return true;
    }
    if (deferred) {
      // Posted answers run after this returns: the session is held until one comes.
      shared_.waiting.insert(self);
    }
    return deferred;
  }

  http::response<http::string_body> make(const http::request<http::string_body>& req,
                                         unsigned status, std::string_view type, std::string body) {
    return make(req.version(), req.keep_alive(), status, type, std::move(body));
  }

  http::response<http::string_body> make(unsigned version, bool keep_alive, unsigned status,
                                         std::string_view type, std::string body) {
    http::response<http::string_body> res{static_cast<http::status>(status), version};
    res.set(http::field::server, "vigild");
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  void reply_and_close(unsigned status, std::string body) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "vigild");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.keep_alive(false);
    res.body() = std::move(body);
    res.prepare_payload();
    write(std::move(res), true);
  }

  void write(http::response<http::string_body> res, bool then_close) {
    auto held = std::make_shared<http::response<http::string_body>>(std::move(res));
    stream_.expires_after(shared_.request_timeout);
    http::async_write(
        stream_, *held,
        [self = this->shared_from_this(), held, then_close](beast::error_code ec, std::size_t) {
          if (ec) {
            self->close();
          } else if (then_close) {
            self->linger();
          } else {
            self->read();
          }
        });
  }

  /// /api/events: the head of an event stream, then each event as it comes, until the
  /// page goes (or falls too far behind).
  void follow(const http::request<http::string_body>& req) {
    auto head = std::make_shared<std::string>(
        "HTTP/1.1 200 OK\r\nServer: vigild\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n: vigild events\n\n");
    (void)req;
    streaming_ = true;
    std::weak_ptr<session> weak = this->shared_from_this();
    shared_.followers.emplace_back([weak](const std::string& event) {
      auto self = weak.lock();
      if (!self || self->closed_) {
        return false;
      }
      return self->push("data: " + event + "\n\n");
    });
    push(std::move(*head));
    // A page that goes away is seen as the end of its socket: keep one read pending.
    stream_.expires_never();
    auto sink = std::make_shared<std::array<char, 64>>();
    stream_.socket().async_read_some(
        asio::buffer(*sink),
        [self = this->shared_from_this(), sink](beast::error_code, std::size_t) { self->close(); });
  }

  bool push(std::string text) {
    if (pending_.size() >= max_pending_events) {
      close();
      return false;
    }
    pending_.push_back(std::move(text));
    if (pending_.size() == 1) {
      write_next();
    }
    return true;
  }

  void write_next() {
    if (pending_.empty() || closed_) {
      return;
    }
    asio::async_write(stream_.socket(), asio::buffer(pending_.front()),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->pending_.pop_front();
                        self->write_next();
                      });
  }

  /// Closes after an answer that ends the connection: the sending side first, then what
  /// the client still sends is read and dropped for a moment, so that closing with unread
  /// bytes does not reset the connection before the client has read the answer.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    drain_ = std::make_shared<std::array<char, 4096>>();
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(*drain_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) {
                                self->close();
                              } else {
                                self->drain();
                              }
                            });
  }

  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::basic_stream<Protocol> stream_;
  beast::flat_buffer buffer_{header_limit};
  std::optional<http::request_parser<http::string_body>> parser_;
  shared_state& shared_;
  access peer_;
  bool streaming_ = false;
  bool closed_ = false;
  std::deque<std::string> pending_;
  std::shared_ptr<std::array<char, 4096>> drain_;
  std::size_t& count_; ///< the count this session is among
  std::optional<unsigned> counted_uid_;
};

} // namespace

struct http_service::impl {
  // Before the loop: the sessions its handlers hold are destroyed with it, and use this.
  shared_state shared;
  asio::io_context io{1};
  std::optional<tcp::acceptor> tcp_acceptor;
  std::optional<unix_socket::acceptor> unix_acceptor;
  std::string unix_path;
  std::thread thread;
  /// Refused Unix peers, logged at most about once a second as the control socket's are: a
  /// line for each let any local user who connects in a loop fill vigild's log.
  daemon::refusal_log refusals{[](const std::string& line) { spdlog::warn("{}", line); },
                               std::chrono::seconds(1), "observer connections"};
  asio::steady_timer refusal_summary{io};

  impl(daemon::daemon_state& st, event_counters& counters, std::string token)
      : shared{st, counters, std::move(token), {}, {}, {}, {}} {}

  void refused(const result<daemon::peer_credentials>& peer) {
    const std::string who = peer ? "uid " + std::to_string(peer->uid) : "an unknown peer";
    const auto now = std::chrono::steady_clock::now();
    refusals.refused("observer: refused " + who + " (not allowed on the control socket)", who,
                     "not allowed", now);
    summarize_at(refusals.tick(now));
  }

  /// Writes the refusals' summary when its period ends.
  void summarize_at(std::optional<std::chrono::steady_clock::time_point> due) {
    if (!due || refusal_summary.expiry() == *due) {
      return;
    }
    refusal_summary.expires_at(*due);
    refusal_summary.async_wait([this](beast::error_code ec) {
      if (!ec) {
        summarize_at(refusals.tick(std::chrono::steady_clock::now()));
      }
    });
  }

  void accept_tcp() {
    tcp_acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) {
        return;
      }
      if (!ec && shared.quota.room_for_anyone(shared.sessions)) {
        // TCP carries no credentials: without a token, reads only (docs/security.md).
        std::make_shared<session<tcp>>(std::move(socket), shared,
                                       access{true, false, static_cast<unsigned>(::geteuid())})
            ->start();
      }
      accept_tcp();
    });
  }

  void accept_unix() {
    unix_acceptor->async_accept([this](beast::error_code ec, unix_socket::socket socket) {
      if (ec == asio::error::operation_aborted) {
        return;
      }
      if (!ec) {
        auto peer = daemon::read_peer_credentials(socket.native_handle());
        const auto policy = shared.st.policy();
        if (peer && daemon::authorized(*peer, policy)) {
          const auto per_user =
              static_cast<std::size_t>(shared.st.config()->daemon.max_connections_per_user);
          if (shared.quota.check(shared.sessions, peer->uid,
                                 daemon::trusted_peer(peer->uid, policy), per_user)
              == daemon::connection_quota::verdict::admit) {
            std::make_shared<session<unix_socket>>(std::move(socket), shared,
                                                   access{true, true, peer->uid}, peer->uid)
                ->start();
          }
        } else {
          refused(peer);
          if (shared.refused_sessions < max_refused_sessions) {
            // The control socket's rules: the peer may not read the tree either. It gets its
            // 401 from a session of its own kind, so it cannot take one that serves.
            std::make_shared<session<unix_socket>>(std::move(socket), shared, access{})->start();
          }
        }
      }
      accept_unix();
    });
  }

  void broadcast(const std::string& event) {
    for (auto it = shared.followers.begin(); it != shared.followers.end();) {
      if ((*it)(event)) {
        ++it;
      } else {
        it = shared.followers.erase(it);
      }
    }
  }
};

http_service::http_service(daemon::daemon_state& st, const config::observer_options& options,
                           event_counters& counters)
    : impl_(std::make_unique<impl>(st, counters, options.token)) {
  auto address = config::parse_listen(options.listen);
  if (!address) {
    throw std::runtime_error("observer: not an address: " + options.listen);
  }
  impl_->shared.request_timeout = st.config()->daemon.first_request_timeout;
  beast::error_code ec;
  if (address->tcp) {
    tcp::endpoint at(asio::ip::make_address(address->host, ec), address->port);
    auto& a = impl_->tcp_acceptor.emplace(impl_->io);
    if (!ec) {
      (void)a.open(at.protocol(), ec);
    }
    if (!ec) {
      (void)a.set_option(asio::socket_base::reuse_address(true), ec);
      (void)a.bind(at, ec);
    }
    if (!ec) {
      (void)a.listen(asio::socket_base::max_listen_connections, ec);
    }
  } else {
    // vigild binds, unlinks and chmods this path as root: like the control socket's, its
    // directory must be one no one else can change (docs/security.md), or its owner could
    // swap the socket for a symlink between bind and chmod and have any file made 0666, or
    // point the directory elsewhere. Once checked, the path leads nowhere else.
    std::string dir = std::filesystem::path(address->path).parent_path().string();
    if (auto trusted = trusted_path(dir, ::geteuid()); !trusted) {
      throw daemon::service_refused("observer.listen: refusing the observer's socket directory "
                                    + dir + ": " + trusted.error().message
                                    + " (another user could replace the socket)");
    }
    impl_->unix_path = address->path;

    struct stat sb {};

    if (::lstat(address->path.c_str(), &sb) == 0 && S_ISSOCK(sb.st_mode)) {
      (void)::unlink(address->path.c_str()); // a socket left by a vigild that died
    }
    impl_->shared.unix_socket = true;
    auto& a = impl_->unix_acceptor.emplace(impl_->io);
    unix_socket::endpoint at(address->path);
    (void)a.open(at.protocol(), ec);
    if (!ec) {
      (void)a.bind(at, ec);
    }
    if (!ec) {
      // Anyone may connect; the peer's credentials decide (as on the control socket).
      (void)::chmod(address->path.c_str(), 0666);
      (void)a.listen(asio::socket_base::max_listen_connections, ec);
    }
  }
  if (ec) {
    throw std::runtime_error("observer: cannot listen on " + options.listen + ": " + ec.message());
  }
  if (impl_->tcp_acceptor) {
    impl_->accept_tcp();
  } else {
    impl_->accept_unix();
  }
  impl_->shared.loop->io = &impl_->io;
  spdlog::info("observer listening on {}", options.listen);
  impl_->thread = std::thread([this] {
    for (;;) {
      try {
        impl_->io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("observer: {}", e.what());
      }
    }
  });
}

http_service::~http_service() {
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    if (impl_->tcp_acceptor) {
      (void)impl_->tcp_acceptor->close(ignored);
    }
    if (impl_->unix_acceptor) {
      (void)impl_->unix_acceptor->close(ignored);
    }
    impl_->refusal_summary.cancel();
    impl_->shared.waiting.clear();
    impl_->io.stop();
  });
  impl_->thread.join();
  {
    std::lock_guard lock(impl_->shared.loop->mutex);
    impl_->shared.loop->io = nullptr;
  }
  if (!impl_->unix_path.empty()) {
    (void)::unlink(impl_->unix_path.c_str());
  }
}

void http_service::publish(std::string event_json) {
  asio::post(impl_->io, [this, event = std::move(event_json)] {
    auto parsed = nlohmann::json::parse(event, nullptr, false);
    if (parsed.is_object()) {
      impl_->shared.counters.count(parsed);
    }
    impl_->broadcast(event);
  });
}

} // namespace vigil::observer
