// SPDX-License-Identifier: Apache-2.0
#pragma once

// Workers' output in the journal. Under systemd each line an OS worker writes becomes a
// journal entry of its own, sent over journald's native protocol from vigild (so it belongs
// to vigild's unit), tagged with the worker: `journalctl -u vigild -t web` (its id) or
// `journalctl VIGIL_WORKER=root/web` (its path). A line that starts with an sd-daemon priority
// prefix ("<3>disk full") gets that priority, as journald does for services' own output.

#include <sys/types.h>

#include <string>
#include <string_view>

namespace vigil::daemon {

/// One line of a worker's output.
struct worker_line {
  std::string_view name;   ///< its id (its log key), e.g. "web"
  std::string_view worker; ///< its path, e.g. "root/web"; empty when not known yet
  std::string_view stream; ///< "stdout" or "stderr"
  std::string_view text;   ///< without its newline
  pid_t os_pid = 0;        ///< the OS process that wrote it, 0 if unknown
};

/// The datagram journald's native protocol expects for `line`: MESSAGE (without a priority
/// prefix), PRIORITY (the prefix's, else 6, info), SYSLOG_IDENTIFIER (the worker's name),
/// VIGIL_WORKER (its path) and VIGIL_OS_PID when known, and VIGIL_STREAM. A value holding a newline
/// uses the protocol's length-prefixed form.
[[nodiscard]] std::string journal_datagram(const worker_line& line);

/// What became of a line sent to the journal.
enum class journal_send {
  sent,
  full,   ///< journald is behind and its socket is full (EAGAIN, ENOBUFS): the line is dropped
  absent, ///< no journald there (ENOENT, ECONNREFUSED), or it refused the line (EMSGSIZE):
          ///< the caller logs the line another way
};

/// Sends `line` to journald at `socket_path`, never waiting.
journal_send send_to_journal(const worker_line& line,
                             const char* socket_path = "/run/systemd/journal/socket");

} // namespace vigil::daemon
