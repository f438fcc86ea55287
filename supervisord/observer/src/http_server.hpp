// SPDX-License-Identifier: Apache-2.0
#pragma once

// The observer's HTTP listener (docs/observer.md): one thread of its own runs an Asio loop
// that accepts on the configured Unix socket or TCP address, reads each request with
// Boost.Beast's parser under limits (8 KiB of header, 64 KiB of body, the daemon's
// first_request_timeout for a whole request) and answers from the daemon's index. It never
// runs on a scheduler thread and never waits for one.

#include "vigil/config/config.hpp"

#include <functional>
#include <memory>
#include <string>

namespace vigil::daemon {
class daemon_state;
}

namespace vigil::observer {

class event_counters;

/// What a request may do: read (the page, its events, /metrics) and act (the buttons).
struct access {
  bool read = false;
  bool act = false;
  /// Whose atom budget the commands it runs draw on: the Unix peer's uid, else vigild's.
  unsigned uid = 0;
};

/// A request as the routes see it, and their answer.
struct http_request {
  std::string method;
  std::string target;
  std::string body;
  /// It carried "X-Vigil-Action: 1": a page of another origin cannot send that header
  /// without a CORS preflight, which vigild never grants, so a form it forges is refused.
  bool action_header = false;
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class http_service {
public:
  /// Binds `options.listen` at once; throws std::runtime_error (with the address and why)
  /// when it cannot.
  http_service(daemon::daemon_state& st, const config::observer_options& options,
               event_counters& counters);
  http_service(const http_service&) = delete;
  http_service& operator=(const http_service&) = delete;
  /// Closes the listener and every connection, and joins the thread.
  ~http_service();

  /// An event of the stream, for the pushed events of open pages and the counters. Any
  /// thread; returns at once.
  void publish(std::string event_json);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace vigil::observer
