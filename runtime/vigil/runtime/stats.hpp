// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the runtime is doing, read from any thread without stopping it: run-queue lengths
// and reductions per scheduler, and the processes whose mailboxes have grown long. Every
// figure is a relaxed read of a copy its owner thread publishes off the per-message path,
// so a read costs the runtime nothing and may be a turn behind (docs/runtime.md, "Stats").

#include "vigil/term/term.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace vigil {

class runtime;

/// One scheduler thread.
struct scheduler_stats {
  /// Processes queued on this thread: its work-stealing deque and the processes that
  /// yielded or used up their turn on it.
  std::size_t run_queue_length = 0;
  /// Reductions (messages taken and resumptions) of the processes this thread ran. A turn
  /// counts once the process's next turn starts (or its slot's next process's first), so
  /// the figure lags by at most one turn (runtime_options::reductions_per_turn) per process.
  std::uint64_t reductions = 0;
};

struct runtime_stats {
  std::vector<scheduler_stats> schedulers;
  /// Processes woken from outside the schedulers (timers, the blocking pool, other threads)
  /// that no scheduler has taken yet.
  std::size_t shared_run_queue_length = 0;
  /// Processes alive now.
  std::size_t processes = 0;

  /// Every scheduler's reductions: a counter that only grows.
  [[nodiscard]] std::uint64_t reductions() const noexcept;
};

[[nodiscard]] runtime_stats read_stats(runtime& rt);

/// A process whose mailbox held at least the threshold's messages at the start of its
/// latest turn.
struct long_mailbox {
  pid process;
  std::uint32_t length = 0;
  std::optional<atom> registered_name;
};

struct long_mailboxes_result {
  /// The longest `limit` of them, longest first.
  std::vector<long_mailbox> longest;
  /// How many processes were at or over the threshold in all (may exceed `longest.size()`).
  std::size_t over_threshold = 0;
};

/// Walks the process table for mailboxes of `threshold` messages or more (threshold 0 is
/// taken as 1). Safe against processes exiting meanwhile: a slot that changed incarnation
/// during its read is skipped. Costs a few loads per slot ever used.
[[nodiscard]] long_mailboxes_result long_mailboxes(runtime& rt, std::uint32_t threshold,
                                                   std::size_t limit);

/// The length of `p`'s mailbox at the start of its latest turn, or nullopt once `p` is dead.
/// A few loads, no lock: what a producer outside the runtime (an OS worker's channel) reads
/// per message to hold back while the process it sends to is far behind. It lags: messages
/// sent since that turn are not counted yet.
[[nodiscard]] std::optional<std::uint32_t> mailbox_length_seen(runtime& rt, pid p) noexcept;

} // namespace vigil
