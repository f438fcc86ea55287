// SPDX-License-Identifier: Apache-2.0
#include "routes.hpp"

#include "metrics.hpp"

namespace vigil::observer {
namespace {

http_response text(unsigned status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

} // namespace

http_response route(daemon::daemon_state& st, const event_counters& counters,
                    const http_request& req, access allowed) {
  const std::string_view path = path_of(req.target);
  if (path == "/metrics") {
    if (req.method != "GET" && req.method != "HEAD") {
      return text(405, "method not allowed\n");
    }
    return {200, "text/plain; version=0.0.4; charset=utf-8", render_metrics(st, counters)};
  }
  (void)allowed;
  return text(404, "not found\n");
}

} // namespace vigil::observer
