// SPDX-License-Identifier: Apache-2.0
#pragma once

// One command of the control protocol run for a caller that is not a control connection: the
// web observer's buttons and process page. It runs through the very handlers `vigilctl`
// reaches (command_handlers.hpp), in a short-lived process of its own, so that a restart
// from the page is the restart of `vigilctl restart`, with the same checks and errors.

#include "vigil/common/result.hpp"

#include "protocol_vocabulary.hpp"

#include <sys/types.h>

#include <functional>
#include <string>

namespace vigil::daemon {

class daemon_state;

/// What a command answered: its result (JSON text) or its error.
struct command_answer {
  bool ok = true;
  error_code code = error_code::failed;
  /// The result object when `ok`, else the error's message.
  std::string text;
};

/// Called once with the answer, on the command's process thread: it must not block.
using command_done = std::function<void(command_answer)>;

/// Spawns a process that runs `req` as the session of a client of uid `uid` would (its
/// atoms drawn on that uid's budget) and calls `done` with the answer. An error when the
/// process cannot be spawned; `done` is then never called.
[[nodiscard]] result<void> call_command(daemon_state& st, request req, ::uid_t uid,
                                        command_done done);

} // namespace vigil::daemon
