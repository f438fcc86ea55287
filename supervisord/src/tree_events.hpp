// SPDX-License-Identifier: Apache-2.0
#pragma once

// What vigild does with each event of its supervisors (supervision::child_event): it
// updates the index of the tree (tree_index.hpp), publishes process_started,
// process_restarted, process_exited and supervisor_gave_up to the event stream, and logs
// each supervisor report as one line, recorded for `vigilctl why`. It runs in the
// supervisor that tells the event, before that supervisor goes on: an exit is in the index
// and on the stream before its supervisor can exit itself.

#include "vigil/supervision/supervisor.hpp"

namespace vigil::daemon {

class daemon_state;

/// The sink every supervisor of vigild's tree is started with; `st` must outlive the tree.
[[nodiscard]] supervision::event_sink tree_sink(daemon_state& st);

} // namespace vigil::daemon
