// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <atomic>
#include <cstdint>

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

  static signal* make(signal_kind kind, pid from, std::uint32_t target_serial, term payload);
  static void dispose(signal* s) noexcept;
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

  push_result push(signal* s) noexcept;

  /// Takes every queued signal, oldest first. Only the owner calls it.
  [[nodiscard]] signal* take_all() noexcept;

  /// Marks the inbox blocked if it is empty. False when signals arrived meanwhile.
  [[nodiscard]] bool try_block() noexcept;

  /// Closes the inbox for good and returns what was still queued, oldest first.
  [[nodiscard]] signal* close() noexcept;

  /// Reopens a closed inbox, empty and not blocked, for a new process in the same slot.
  void reopen() noexcept;

private:
  static signal* reverse(signal* head) noexcept;
  static signal* blocked_marker() noexcept;
  static signal* closed_marker() noexcept;

  std::atomic<signal*> head_{nullptr};
};

} // namespace vigil::detail
