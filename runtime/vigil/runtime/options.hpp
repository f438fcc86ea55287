// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/atom.hpp"
#include "vigil/term/term.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace vigil {

/// A receive timeout in milliseconds, as Erlang's `after`; `infinity` waits forever and
/// `after(0)` polls.
using timeout = std::chrono::milliseconds;
inline constexpr timeout infinity = timeout::max();

/// What a bounded mailbox does with a message that arrives when it is full.
enum class overflow_policy : std::uint8_t {
  drop_newest, ///< discard the new message and count it (see `process_info::dropped`)
  exit,        ///< the receiver exits with reason `:mailbox_overflow`
};

/// Options for `spawn`: Erlang's spawn_opt, plus Vigil's mailbox bound.
struct spawn_options {
  /// Register the new process under this name, atomically with the spawn. If the name is
  /// taken the spawn fails.
  std::optional<atom> name;
  /// Start with trap_exit set.
  bool trap_exit = false;
  /// Link the new process to the spawning one, atomically (spawn_link). Ignored by
  /// `runtime::spawn_opt`, which has no spawning process.
  bool link = false;
  /// Bound the mailbox at this many messages; 0 means unbounded, as in Erlang.
  std::size_t max_mailbox = 0;
  overflow_policy on_overflow = overflow_policy::drop_newest;
  /// What `info` shows as initial_call, e.g. "echo:loop/0".
  const char* initial_call = nullptr;
};

/// Options for a `runtime`.
struct runtime_options {
  /// Scheduler threads; 0 means one per core.
  unsigned schedulers = 0;
  /// Threads for `co_await self.blocking(fn)`.
  unsigned blocking_threads = 2;
  /// Messages a process may take in one turn before it yields its thread to others.
  std::uint32_t reductions_per_turn = 2000;
  /// The most processes alive at once (Erlang's +P); spawn beyond it fails.
  std::uint32_t max_processes = 1U << 22;
  /// Map process memory populated ahead of use (MADV_POPULATE_WRITE), so that a burst of spawns
  /// takes no page fault per process, and keep a few populated regions ready on a background
  /// thread at SCHED_IDLE (up to 4 MiB, no more than half of what the runtime has used). Off, the
  /// runtime holds only the pages its processes touch: what a daemon with a few hundred processes
  /// wants (vigild turns it off).
  bool prefault = true;
  /// A process that keeps its thread longer than this without suspending is reported in
  /// the log and flagged in `info` (it cannot be preempted; docs/design.md).
  std::chrono::milliseconds long_run_warning{500};
  /// Where runtime warnings go (the watchdog's); stderr if empty.
  std::function<void(const std::string&)> on_warning;
  /// Delivers a message to a pid of another node (`to.node != 0`), such as a process inside
  /// an OS-process worker (docs/os-workers.md). `runtime::send`, `context::send` and the
  /// mailboxes call it, on the sender's thread, for such pids only: a local pid never reaches
  /// it. Without it a send to another node is dropped, as one to a dead pid. It must not
  /// block and must not throw; links, monitors and exit signals do not use it.
  std::function<void(pid to, term message)> remote_send;
  /// The node field of every reference `make_ref` returns (at most `reference::max_node`).
  /// vigild's is 0; an OS worker's runtime stamps its own (`sdk::ref_node`), so that vigild
  /// can tell the references it made from the daemon's (docs/security.md, "Workers").
  std::uint32_t ref_node = 0;
};

} // namespace vigil
