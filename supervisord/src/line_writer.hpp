// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild's own log lines to a stream that may stop reading: under systemd its stderr, a
// stream socket to journald. A journald that is behind must not stall the thread that logs
// (the OS reactor's, for one, which serves every OS child), so a line is written only if the
// socket takes it now; one it has no room for is dropped and counted, and the count is told
// in a line of its own ("<4>vigild: dropped N lines of its log: ...") before the next line
// that gets through. A line is never cut: the rest of one the socket took only in part is
// kept and written first next time, so the reader still sees whole lines.
//
// Only a socket can be written without waiting without changing the file's flags for the
// other processes that share it (MSG_DONTWAIT); on anything else (a file, a pipe, a tty that
// systemd gave as stderr) the writer checks that the stream can be written (poll) before it
// writes, which keeps a stream nobody reads from stalling it, but a line longer than the room
// a pipe has left can still wait for the reader.

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::daemon {

class line_writer {
public:
  /// Writes to `fd`, which it does not own.
  explicit line_writer(int fd);

  /// Writes `line` (with its newline) if the stream takes it now; false if it was dropped.
  bool write_line(std::string_view line);

  /// Lines dropped since the last that got through.
  [[nodiscard]] std::uint64_t unreported() const { return unreported_; }

private:
  /// Writes as much of `rest_` as the stream takes now; true when none is left.
  bool flush_rest();

  int fd_;
  bool socket_ = false;
  std::string rest_; ///< the unwritten end of a line the stream took in part
  std::uint64_t unreported_ = 0;
};

} // namespace vigil::daemon
