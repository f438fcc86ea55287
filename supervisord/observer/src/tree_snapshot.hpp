// SPDX-License-Identifier: Apache-2.0
#pragma once

// The tree as the observer shows it: one walk over the daemon's index under its lock that
// copies what /metrics and the page need, then the OS children's resources read without it.

#include "vigil/term/term.hpp"

#include "tree_index.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigil::daemon {
class daemon_state;
}

namespace vigil::observer {

struct child_row {
  std::string path;
  std::string id;
  std::string kind; ///< the worker kind, "command", or "supervisor"
  std::string type; ///< worker or supervisor
  std::string state;
  std::string last_exit_reason;
  std::uint32_t restarts = 0;
  bool dynamic = false;
  std::optional<pid> process;
  std::optional<std::int64_t> uptime_ms;
  bool os_child = false; ///< runs as an OS process (when it runs)
  std::optional<std::int64_t> os_pid;
  std::optional<std::int64_t> rss_kb;
  std::optional<std::int64_t> cpu_ms;
  std::vector<daemon::restart_record> history;
};

struct supervisor_row {
  std::string path;
  std::uint32_t intensity = 0;
};

struct tree_snapshot {
  std::vector<child_row> children;         ///< in the order a walk from the root lists them
  std::vector<supervisor_row> supervisors; ///< root first
  std::int64_t now_ms = 0;                 ///< steady clock, when it was taken
};

/// `with_history`: copy each child's restart history too (the page shows it).
[[nodiscard]] tree_snapshot take_snapshot(const daemon::daemon_state& st, bool with_history);

} // namespace vigil::observer
