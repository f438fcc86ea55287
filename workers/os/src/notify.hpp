// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The daemon's end of sd_notify (docs/os-workers.md, "Readiness and health checks"): one
/// datagram socket per child that asked for it, its path in the child's NOTIFY_SOCKET.
namespace vigil::os::detail {

/// What one datagram said. Unknown keys are ignored, as systemd does.
struct notify_message {
  bool ready = false;                ///< READY=1
  bool watchdog = false;             ///< WATCHDOG=1
  bool stopping = false;             ///< STOPPING=1
  std::optional<std::string> status; ///< STATUS=, control characters replaced, cut short
  std::optional<std::int64_t> main_pid;
  std::optional<std::int64_t> errno_value;
};

/// The longest datagram read; a longer one is dropped whole.
constexpr std::size_t max_notify_datagram = 4096;
/// The longest STATUS= text kept.
constexpr std::size_t max_status_text = 256;

/// Parses newline-separated KEY=VALUE assignments. nullopt for a malformed datagram
/// (empty, a NUL byte, a line without '='), which is ignored whole.
[[nodiscard]] std::optional<notify_message> parse_notify(std::string_view datagram);

/// A non-blocking, close-on-exec datagram socket bound at `path` (mode 0666: anyone may
/// send, the credentials decide) with SO_PASSCRED on.
[[nodiscard]] result<unique_fd> open_notify_socket(const std::string& path);

/// One datagram read from a notify socket.
struct notify_datagram {
  std::string data;
  pid_t sender = 0;       ///< from SCM_CREDENTIALS; 0 when none came
  bool truncated = false; ///< longer than max_notify_datagram
};

/// Reads one datagram without blocking; nullopt when none is queued. Descriptors sent along
/// (SCM_RIGHTS) are closed at once.
[[nodiscard]] std::optional<notify_datagram> receive_notify(int fd);

} // namespace vigil::os::detail
