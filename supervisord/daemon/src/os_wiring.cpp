// SPDX-License-Identifier: Apache-2.0
#include "os_wiring.hpp"

#include "event_store.hpp"
#include "journal.hpp"
#include "state.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace vigil::daemon {

std::unique_ptr<os::service> make_os_service(daemon_state& st, bool journal) {
  os::service_options o;
  o.plugins = st.config()->daemon.plugins;
  // On the reactor thread: nothing here may block for long (the journal send does not wait).
  o.on_line = [&st, journal](const os::output_line& l) {
    // The event hub learns a child's path a moment after its start, so the first lines of
    // an incarnation may come before it: they go out under the worker's id alone.
    auto child = st.events.child(l.port);
    std::string path = child ? child->path : std::string();
    std::string line(l.line);
    st.events.log_line(path.empty() ? l.key : path, std::string(l.stream), line);
    if (journal && !send_to_journal({l.key, path, l.stream, line, 0})) {
      spdlog::info("{} {}: {}", path.empty() ? l.key : path, l.stream, line);
    }
  };
  return std::make_unique<os::service>(st.rt, std::move(o));
}

} // namespace vigil::daemon
