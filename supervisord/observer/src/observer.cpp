// SPDX-License-Identifier: Apache-2.0
#include "vigil/observer/observer.hpp"

#include "counters.hpp"
#include "event_store.hpp"
#include "hooks.hpp"
#include "http_server.hpp"
#include "state.hpp"

namespace vigil::observer {
namespace {

/// What start() returns: the parts, and the tap on the event stream that feeds them.
struct service {
  daemon::daemon_state& st;
  event_counters counters;
  std::unique_ptr<http_service> http;
  std::unique_ptr<hook_runner> hooks;
  std::uint64_t tap = 0;

  explicit service(daemon::daemon_state& s) : st(s) {}

  service(const service&) = delete;
  service& operator=(const service&) = delete;

  ~service() {
    if (tap != 0) {
      st.events.untap(tap);
    }
    hooks.reset();
    http.reset();
  }
};

} // namespace

std::shared_ptr<void> start(daemon::daemon_state& st) {
  auto cfg = st.config();
  if (cfg->observer.listen.empty() && cfg->hooks.empty()) {
    return nullptr;
  }
  auto s = std::make_shared<service>(st);
  if (!cfg->observer.listen.empty()) {
    s->http = std::make_unique<http_service>(st, cfg->observer, s->counters);
  }
  if (!cfg->hooks.empty()) {
    s->hooks = std::make_unique<hook_runner>(st);
  }
  // Under the store's lock: both only queue the event for their own thread.
  s->tap = st.events.tap([raw = s.get()](const std::string& event) {
    if (raw->http) {
      raw->http->publish(event);
    }
    if (raw->hooks) {
      raw->hooks->on_event(event);
    }
  });
  return s;
}

} // namespace vigil::observer
