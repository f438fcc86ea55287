// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/ctl/json.hpp"

#include <string>

namespace vigil::ctl {

// Human output of vigilctl's commands. Each function takes the `result` object of a reply
// (or one event line) and returns text ending in a newline. Missing or mistyped fields print
// as "-": output for humans never fails.

/// A table cell for `value`: "-" for null, strings as they are, anything else as a term.
[[nodiscard]] std::string cell_text(const json& value);

/// `status`: PATH PID STATE RESTARTS UPTIME KIND MODE OS_PID.
[[nodiscard]] std::string render_status(const json& result, bool colour = false);

/// `tree`: the supervision tree as the observer shows it, one process a line with its pid,
/// type, strategy and state, children under their supervisor with box-drawing branches.
[[nodiscard]] std::string render_tree(const json& result);

/// `info`: one key a line, aligned; list values put one element on each line.
[[nodiscard]] std::string render_info(const json& result);

/// `reload`: PATH ACTION REASON, then whether the plan was applied.
[[nodiscard]] std::string render_plan(const json& result);

/// `registered`: NAME PID.
[[nodiscard]] std::string render_registered(const json& result);

/// One event line: time, event, path, pid, then the other fields as key=value.
[[nodiscard]] std::string render_event(const json& event);

/// One log line, from `logs` or from a `log` event: time, stream, text. With `escape`, the
/// text's control characters are written out (escape_control_characters): the text comes
/// from a worker, and vigilctl prints it to a terminal.
[[nodiscard]] std::string render_log_line(const json& line, bool escape = false);

/// `logs`: each of the result's lines, escaped as render_log_line says.
[[nodiscard]] std::string render_logs(const json& result, bool escape = false);

/// `events`: each of the result's events.
[[nodiscard]] std::string render_events(const json& result);

} // namespace vigil::ctl
