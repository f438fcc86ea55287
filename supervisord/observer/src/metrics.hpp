// SPDX-License-Identifier: Apache-2.0
#pragma once

// /metrics: the tree and the daemon in Prometheus' text exposition format (version 0.0.4),
// read from the daemon's index under its lock, as `status` reads it (docs/observer.md,
// "Metrics").

#include <string>

namespace vigil::daemon {
class daemon_state;
}

namespace vigil::observer {

class event_counters;

/// The whole exposition, each family with its HELP and TYPE.
[[nodiscard]] std::string render_metrics(const daemon::daemon_state& st,
                                         const event_counters& counters);

/// `text` as a label value: backslash, double quote and newline escaped.
void append_label_value(std::string& out, std::string_view text);

} // namespace vigil::observer
