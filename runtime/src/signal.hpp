// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include "pool.hpp"

#include <atomic>
#include <cstdint>
#include <new>

namespace vigil::detail {

/// Everything one process can say to another travels as a signal through the receiver's
/// inbox, so that semantics 6 holds for all of them at once: signals from one sender to one
/// receiver are handled in the order they were sent.
enum class signal_kind : std::uint8_t {
  message,     ///< payload: the message
  exit,        ///< exit/2 from `from`; payload: the reason
  exit_linked, ///< a linked process died; payload: the reason
  link,        ///< `from` linked to the receiver
  unlink,      ///< `from` unlinked from the receiver
  monitor,     ///< `from` monitors the receiver; payload: the monitor's reference
  demonitor,   ///< `from` dropped its monitor; payload: the reference
  down,        ///< a monitored process died; payload: the {:DOWN, ...} message
  timeout,     ///< the receiver's timer `seq` fired
  resume,      ///< blocking work the receiver waits for has finished
  info,        ///< an info request; `extra` is the requester's info_request*
};

/// One signal. It is allocated by the sender, linked into the receiver's inbox, and, for a
/// message, moved into the receiver's mailbox without copying.
struct signal {
  signal* next = nullptr;
  signal* prev = nullptr; ///< in the mailbox: the next older message, so any can be unlinked
  std::uint32_t target_serial = 0; ///< the generation the sender addressed
  signal_kind kind = signal_kind::message;
  pid from;
  term payload;
  /// timeout: the timer's sequence number; info: the address of the requester's slot; a
  /// message in a mailbox index: its arrival number, which orders the index's classes.
  std::uint64_t extra = 0;

  // Inline, with the payload by reference, as every send makes one: no call, and the
  // payload is moved once, from the sender's term into the signal.
  // Each field is written once: the payload is moved in by construction, not assigned over
  // a default (which tested both terms first).
  static signal* make(signal_kind kind, pid from, std::uint32_t target_serial, term&& payload) {
    return new (pool_allocate(sizeof(signal)))
        signal(kind, from, target_serial, std::move(payload));
  }

  signal() = default;

  signal(signal_kind k, pid sender, std::uint32_t serial, term&& message) noexcept
      : target_serial(serial), kind(k), from(sender), payload(std::move(message)) {}

  static void dispose(signal* s) noexcept {
    s->~signal();
    pool_deallocate(s, sizeof(signal));
  }

  /// dispose() of a signal whose payload has been moved out (nil): nothing else in it has
  /// a destructor, so the payload's test is skipped. Every received message ends so.
  static void free_emptied(signal* s) noexcept { pool_deallocate(s, sizeof(signal)); }
};

// One pool block (runtime/src/pool.cpp): a message costs 64 bytes besides its term.
static_assert(sizeof(signal) <= 64);

/// The receiving end of a process: a lock-free multi-producer stack that its single owner
/// empties all at once. Besides signals, the head holds one of two markers:
/// - `blocked`: the owner found it empty and went to sleep; the sender that replaces the
///   marker must schedule the owner;
/// - `closed`: the owner has died; pushes fail.
class inbox {
public:
  enum class push_result : std::uint8_t { queued, woke_owner, closed };

  /// Inline: every send pushes once.
  push_result push(signal* s) noexcept {
    signal* head = head_.load(std::memory_order_relaxed);
    for (;;) {
      if (head == closed_marker()) {
        return push_result::closed;
      }
      bool was_blocked = head == blocked_marker();
      s->next = was_blocked ? nullptr : head;
      // Release: the receiver that takes this signal sees everything written to it.
      if (head_.compare_exchange_weak(head, s, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        return was_blocked ? push_result::woke_owner : push_result::queued;
      }
    }
  }

  /// False when nothing is queued: a plain load, so that the owner skips a drain inline.
  [[nodiscard]] bool maybe_nonempty() const noexcept {
    signal* head = head_.load(std::memory_order_relaxed);
    return head != nullptr && head != blocked_marker();
  }

  /// Takes every queued signal, NEWEST first, linked through `next`: the caller puts them
  /// in arrival order in the same pass in which it looks at each one (drain_into), rather
  /// than walking a batch twice. Only the owner calls it, on every receive.
  [[nodiscard]] signal* take_all_newest_first() noexcept {
    signal* head = head_.load(std::memory_order_relaxed);
    if (head == nullptr || head == blocked_marker() || head == closed_marker()) {
      return nullptr; // a plain load: no locked instruction when there is nothing to take
    }
    return head_.exchange(nullptr, std::memory_order_acq_rel);
  }

  /// Marks the inbox blocked if it is empty. False when signals arrived meanwhile.
  [[nodiscard]] bool try_block() noexcept {
    signal* expected = nullptr;
    if (head_.compare_exchange_strong(expected, blocked_marker(), std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      return true;
    }
    return expected == blocked_marker(); // an external owner's earlier wait timed out
  }

  /// Whether the inbox is closed: its owner died, or its slot has held no process yet.
  [[nodiscard]] bool closed() const noexcept {
    return head_.load(std::memory_order_acquire) == closed_marker();
  }

  /// Closes the inbox for good and returns what was still queued, oldest first.
  [[nodiscard]] signal* close() noexcept;

  /// Reopens a closed inbox, empty and not blocked, for a new process in the same slot.
  void reopen() noexcept;

private:
  static signal* reverse(signal* head) noexcept;

  // Static objects whose address is a link-time constant: no guard on the push path.
  static signal* blocked_marker() noexcept { return &markers_[0]; }

  static signal* closed_marker() noexcept { return &markers_[1]; }

  static signal markers_[2];

  std::atomic<signal*> head_{nullptr};
};

} // namespace vigil::detail
