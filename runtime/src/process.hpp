// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/runtime/context.hpp"

#include "signal.hpp"

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <source_location>
#include <thread>
#include <vector>

namespace vigil::detail {

class mailbox_index;

struct monitor_entry {
  reference ref;
  pid other;
};

/// Links and monitors of one process; allocated on first use, since most processes have
/// none and an idle process must stay small.
struct relations {
  std::vector<pid> links;
  std::vector<monitor_entry> monitors;     ///< processes this one monitors
  std::vector<monitor_entry> monitored_by; ///< processes monitoring this one
};

/// What a suspended process waits for.
enum class wait_kind : std::uint8_t {
  start,    ///< spawned, not yet run
  ready,    ///< runnable: yielded, or a completed wait
  receive,  ///< in receive (or sleep): `pending` says how
  blocking, ///< blocking work in the pool
  exiting,  ///< must die at the next chance
  dead,     ///< the slot is free
};

/// A process control block. It lives in the runtime's slot table for the life of the
/// runtime and is reused by later processes of the same slot, so a pointer to it never
/// dangles; the `serial` says which incarnation it is.
///
/// Everything but `serial`, `inbox`, `named`, `status` and `mailbox_len_seen` belongs to the
/// thread running the process (or, for an external mailbox, its owner thread).
class process final : public context {
public:
  process() = default;
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  process(process&&) = delete;
  process& operator=(process&&) = delete;
  ~process() = default;

  // -- shared with other threads ------------------------------------------------------------
  std::atomic<std::uint32_t> serial{1};
  std::atomic<bool> named{false};
  std::atomic<process_status> status{process_status::waiting};
  inbox signals;
  std::atomic<std::uint32_t> external_wakeups{0}; ///< futex word of an external mailbox
  /// A copy of `mailbox_len` for stats read by other threads (stats.cpp).
  std::atomic<std::uint32_t> mailbox_len_seen{0};

  // -- owner only ---------------------------------------------------------------------------
  // Ordered so that small fields fill each other's padding (every process costs this block)
  // and so that what every message and every turn touches comes first, next to the inbox:
  // with a thousand processes in a ring each hop meets a cold block, and the fewer cache
  // lines it reads, the faster the hop.
  signal* mailbox_head = nullptr;
  signal* scanned_upto = nullptr; ///< last mailbox node the pending receive examined
  receive_awaiter* pending = nullptr;
  std::coroutine_handle<> resume_point;
  std::coroutine_handle<task<>::promise_type> body;
  std::uint64_t timer_seq = 0; ///< the pending receive's timer, 0 if none
  std::uint64_t reductions = 0;
  /// Where the process last entered a receive, for `info`'s current function: one pointer
  /// stored per receive, the file and line read only when `info` asks.
  std::source_location current_where;
  std::uint32_t frame_bytes = 0; // cold, here to fill the padding the hot fields leave
  std::uint32_t turn_reductions = 0;
  std::uint32_t mailbox_len = 0;
  bool timer_fired = false;
  std::atomic<bool> external{false};
  wait_kind wait = wait_kind::dead;
  bool yield_requested = false;

  // The rest: links, options, bookkeeping read on rarer paths.
  bool blocking_in_flight = false;
  bool trapping = false;
  std::atomic<bool> long_running{false}; ///< set by the watchdog
  overflow_policy on_overflow = overflow_policy::drop_newest;
  std::uint32_t max_mailbox = 0;
  signal* mailbox_tail = nullptr;
  mailbox_index* index = nullptr; ///< messages by head, while the mailbox is long
  std::thread::id owner;          ///< an external mailbox's thread; written before `external`
  std::atomic<std::uint32_t> free_next{0}; ///< next free slot, while this one is free
  term exit_reason;
  relations* rel = nullptr;
  std::uint64_t dropped = 0;
  const char* initial_call = nullptr;
  void* keep = nullptr;
  void (*drop)(void*) noexcept = nullptr;

  [[nodiscard]] relations& rels() {
    if (rel == nullptr) {
      rel = new relations;
    }
    return *rel;
  }

  [[nodiscard]] pid id() const noexcept { return self_; }

  [[nodiscard]] runtime_impl* rt() const noexcept { return rt_; }

  /// A receive on behalf of an external mailbox's thread.
  [[nodiscard]] receive_awaiter receive_for(matcher match, timeout after) {
    return {*this, match, after, std::source_location::current()};
  }

  void set_identity(pid p, runtime_impl* rt) noexcept {
    self_ = p;
    rt_ = rt;
  }

  /// Publishes `mailbox_len` to other threads: a release store (a plain move on x86), with
  /// no read-modify-write on the per-message path.
  void publish_mailbox_len() noexcept {
    // release: a reader (stats.cpp) that sees this length then sees the serial of the process
    // it belongs to, so a length is never reported under the slot's previous pid.
    mailbox_len_seen.store(mailbox_len, std::memory_order_release);
  }

  /// Appends a message to the mailbox, applying the bound. False if the process must exit
  /// with :mailbox_overflow. Inline, as is unlink_message: every queued message passes both;
  /// the bound and the index, rare, are out of line.
  bool append_message(signal* s) noexcept {
    if (max_mailbox != 0 && mailbox_len >= max_mailbox) [[unlikely]] {
      return refuse_message(s);
    }
    s->next = nullptr;
    s->prev = mailbox_tail;
    if (mailbox_tail == nullptr) {
      mailbox_head = s;
    } else {
      mailbox_tail->next = s;
    }
    mailbox_tail = s;
    ++mailbox_len;
    publish_mailbox_len();
    if (index != nullptr) [[unlikely]] {
      index_message(s);
    }
    return true;
  }

  /// Unlinks `node` from the mailbox (and its index), payload still in it.
  void unlink_message(signal* node) noexcept {
    if (index != nullptr) [[unlikely]] {
      unlink_indexed(node);
      return;
    }
    unlink_links(node);
    --mailbox_len;
    publish_mailbox_len();
  }

  /// unlink_message() of the oldest message, which `receive()` takes: it has no `prev`.
  /// The mailbox must not be empty.
  signal* unlink_oldest() noexcept {
    signal* node = mailbox_head;
    if (index != nullptr) [[unlikely]] {
      unlink_indexed(node);
      return node;
    }
    signal* next = node->next;
    mailbox_head = next;
    if (next == nullptr) {
      mailbox_tail = nullptr;
    } else {
      next->prev = nullptr;
    }
    --mailbox_len;
    publish_mailbox_len();
    return node;
  }

  /// unlink_message() with an index: out of line, as an index is rare.
  void unlink_indexed(signal* node) noexcept;

  void unlink_links(signal* node) noexcept {
    if (node->prev == nullptr) {
      mailbox_head = node->next;
    } else {
      node->prev->next = node->next;
    }
    if (node->next == nullptr) {
      mailbox_tail = node->prev;
    } else {
      node->next->prev = node->prev;
    }
  }

  /// append_message over the bound: drops `s`; false if the policy is to exit.
  bool refuse_message(signal* s) noexcept;
  /// Files `s` in the index (dropping the index when memory runs out).
  void index_message(signal* s) noexcept;
  /// Files every queued message in a new index (see mailbox_index); false, with no index,
  /// when memory runs out. Without an index receives scan, so it is only ever a shortcut.
  bool build_index() noexcept;
  void drop_index() noexcept;
  /// Frees every queued message.
  void clear_mailbox() noexcept;
};

} // namespace vigil::detail
