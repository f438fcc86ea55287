// SPDX-License-Identifier: Apache-2.0
#pragma once

// Requests of the control protocol (docs/protocol.md), checked before anything runs: one JSON
// object per line with `v`, `id`, `cmd` and `args`. The event loop validates each line with
// `parse_request`; only a well-formed request reaches the connection's session process.

#include "vigil/common/result.hpp"
#include "vigil/protocol/command_table.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::protocol {

/// The protocol version this daemon speaks.
inline constexpr int protocol_version = 1;

/// The error codes of docs/protocol.md.
enum class error_code : std::uint8_t {
  bad_request,
  too_large,
  unsupported_version,
  unknown_command,
  invalid_argument,
  not_found,
  unauthorized,
  failed,
  shutting_down,
  /// `send`, `kill` or `exit` on one of vigild's own processes (docs/security.md): "protected".
  protected_process,
};

[[nodiscard]] std::string_view error_code_name(error_code c) noexcept;

/// A validated request. Arguments a command does not take stay empty.
struct request {
  /// The client's `id` as JSON text ("7", "\"a\"", "null"), copied into the reply as is.
  std::string id = "null";
  command cmd = command::hello;
  std::vector<std::string> names; ///< status
  /// info, alive, kill, send: `target`; start, stop, restart, logs: `name`; spawn: `kind`.
  std::string target;
  /// send: `term`; kill: `reason`; spawn: `args` (term text, before self() substitution).
  std::optional<std::string> term;
  std::optional<std::int64_t> await_ms;   ///< send
  std::optional<std::int64_t> timeout_ms; ///< receive
  std::optional<std::int64_t> count;      ///< logs: `lines`; events: `last`
  bool follow = false;                    ///< logs, events
  bool dry_run = false;                   ///< reload
  bool detach = false;                    ///< spawn: outlive the session
};

/// Why a line is not a valid request: the reply's code and message, and the request's `id`
/// when it could be read (else "null").
struct request_error {
  error_code code = error_code::bad_request;
  std::string message;
  std::string id = "null";
};

/// Checks one request line (without its newline) against the protocol: a JSON object, nested
/// at most 64 deep, `v` absent or 1, `id` an integer, a string or null, `cmd` a known command,
/// `args` an object whose keys the command takes, with values of the right types (as
/// `command_table` declares them).
[[nodiscard]] result<request, request_error> parse_request(std::string_view line);

/// `{"v":1,"id":<id>,"ok":true,"result":<result_json>}` and a newline.
[[nodiscard]] std::string reply_ok(std::string_view id, std::string_view result_json);
/// The same written in place around a result appended between the two calls (a result of
/// megabytes is not copied into its envelope): the opening up to `"result":`, ...
void begin_reply_ok(std::string& out, std::string_view id);
/// ... then `}` and the newline.
void end_reply_ok(std::string& out);
/// `{"v":1,"id":<id>,"ok":false,"error":{"code":...,"message":...}}` and a newline.
[[nodiscard]] std::string reply_error(std::string_view id, error_code code,
                                      std::string_view message);

} // namespace vigil::protocol
