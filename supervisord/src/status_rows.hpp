// SPDX-License-Identifier: Apache-2.0
#pragma once

// One row of the `status` reply (docs/protocol.md), written straight into the reply text.

#include "vigil/term/term.hpp"

#include "json_writer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::daemon {

/// A child as `status` lists it. The views point into the tree walked for the reply.
struct status_row {
  std::string_view path;
  std::string_view id;
  std::optional<pid> process;
  std::string_view state;
  std::string_view type;
  std::uint32_t restarts = 0;
  std::optional<std::int64_t> uptime_ms;
  std::optional<std::string_view> kind;
  std::optional<std::string_view> mode;
  /// An OS worker lists os_pid, rss_kb, cpu_ms and log_lines_dropped, null while it has no
  /// OS child.
  bool os_fields = false;
  std::optional<std::int64_t> log_lines_dropped;
  std::optional<std::int64_t> os_pid;
  std::optional<std::int64_t> rss_kb;
  std::optional<std::int64_t> cpu_ms;
  /// An OS child with checks (readiness, health, watchdog): one line saying how they stand
  /// (os::probe_report::summary); no key at all for the others.
  std::optional<std::string> health;
  /// What the child's cgroup counts: it and everything it started (null without one).
  std::optional<std::int64_t> cgroup_memory_bytes;
  std::optional<std::int64_t> cgroup_cpu_ms;
  std::optional<std::int64_t> cgroup_pids;
  /// A failed child: why, and the ms until its retry (null when none is scheduled). A
  /// starting child's reason says what it waits for; a stopped one's why it stopped.
  bool failed = false;
  std::string_view reason;
  std::optional<std::int64_t> retry_ms;
};

/// Writes `r` as one JSON object, the same text as dump() of the row as a nlohmann::json
/// (keys sorted).
void write_status_row(json_writer& w, const status_row& r);

/// The text of `r` up to its last value (uptime_ms, which changes with every reply): for a
/// row whose other fields change only when its child's index entry does, kept and copied
/// instead of written again (a status of 10,000 rows). Not for rows with live fields: an OS
/// worker's, a failed child's.
[[nodiscard]] std::string status_row_head(const status_row& r);

/// Writes a row from its head (status_row_head) and its uptime: the same text as
/// write_status_row of the row.
void write_status_row(json_writer& w, std::string_view head, std::optional<std::int64_t> uptime_ms);

} // namespace vigil::daemon
