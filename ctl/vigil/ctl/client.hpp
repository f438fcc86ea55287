// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"
#include "vigil/ctl/error.hpp"
#include "vigil/ctl/json.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::ctl {

/// One connection to vigild's control socket, speaking docs/protocol.md: one JSON object per
/// line, a request gets the reply with its `id`, and event lines (no `id`) may arrive in
/// between once the connection follows events or logs.
///
/// The client keeps one request in flight at a time. Not thread-safe. Errors map to exit
/// codes: a connection that fails, closes or stays silent past the timeout gives
/// `cannot_connect`, as does the daemon's `unauthorized`; a reply that is not what the
/// protocol says gives `protocol_error`; any other error reply gives `daemon_error` with
/// the daemon's code and message.
class client {
public:
  /// The largest request line the daemon accepts, newline included.
  static constexpr std::size_t max_request_bytes = 65'536;
  /// The largest reply or event line this client accepts; longer ones are protocol errors.
  /// vigild streams replies of any size (an `info` of a full mailbox, the `status` of a
  /// very large tree); this bound only keeps vigilctl's memory finite.
  static constexpr std::size_t max_reply_bytes = std::size_t{256} << 20;

  /// Connects to the Unix stream socket at `path`.
  [[nodiscard]] static result<client, ctl_error> connect(const std::string& path);

  /// Speaks over `fd`, an already connected stream socket (tests use a socketpair).
  explicit client(unique_fd fd) noexcept;

  /// Sends `{"v":1,"id":N,"cmd":cmd,"args":args}` (without `args` when it is null or an empty
  /// object) and waits up to `timeout` for the reply. Returns the reply's `result`. A request
  /// line over `max_request_bytes` is a usage error and is not sent.
  [[nodiscard]] result<json, ctl_error> call(std::string_view cmd, const json& args,
                                             std::chrono::milliseconds timeout);

  /// The next event line: those that arrived during `call` first, then from the socket.
  /// Waits up to `timeout` (forever when nullopt); returns a JSON null when it passed.
  [[nodiscard]] result<json, ctl_error>
  next_event(std::optional<std::chrono::milliseconds> timeout);

private:
  using clock = std::chrono::steady_clock;

  /// Writes all of `bytes`.
  result<void, ctl_error> write_all(std::string_view bytes);
  /// The next line as JSON, or nullopt when `deadline` passed first.
  result<std::optional<json>, ctl_error> read_message(std::optional<clock::time_point> deadline);
  /// Reads what the socket has into `buffer_`; waits until `deadline` at most.
  result<bool, ctl_error> fill(std::optional<clock::time_point> deadline);
  /// Checks a reply line for request `id` and extracts its result or error.
  static result<json, ctl_error> unpack_reply(const json& reply, std::int64_t id);
  /// After a failed write: the error line the daemon sent before closing, if any.
  ctl_error explain_write_failure(ctl_error failure);

  unique_fd fd_;
  std::string buffer_;
  /// How much of `buffer_` is known to hold no newline: a long line is scanned once.
  std::size_t scanned_ = 0;
  std::deque<json> events_;
  std::int64_t next_id_ = 1;
};

} // namespace vigil::ctl
