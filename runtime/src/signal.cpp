// SPDX-License-Identifier: Apache-2.0
#include "signal.hpp"

#include "pool.hpp"

namespace vigil::detail {

signal* signal::make(signal_kind kind, pid from, std::uint32_t target_serial, term payload) {
  auto* s = new (pool_allocate(sizeof(signal))) signal;
  s->kind = kind;
  s->from = from;
  s->target_serial = target_serial;
  s->payload = std::move(payload);
  return s;
}

void signal::dispose(signal* s) noexcept {
  s->~signal();
  pool_deallocate(s, sizeof(signal));
}

signal* inbox::blocked_marker() noexcept {
  static signal marker;
  return &marker;
}

signal* inbox::closed_marker() noexcept {
  static signal marker;
  return &marker;
}

inbox::push_result inbox::push(signal* s) noexcept {
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

signal* inbox::reverse(signal* head) noexcept {
  signal* fifo = nullptr;
  while (head != nullptr) {
    signal* next = head->next;
    head->next = fifo;
    fifo = head;
    head = next;
  }
  return fifo;
}

signal* inbox::take_all() noexcept {
  signal* head = head_.load(std::memory_order_relaxed);
  if (head == nullptr || head == blocked_marker() || head == closed_marker()) {
    return nullptr;
  }
  head = head_.exchange(nullptr, std::memory_order_acq_rel);
  return reverse(head);
}

bool inbox::try_block() noexcept {
  signal* expected = nullptr;
  if (head_.compare_exchange_strong(expected, blocked_marker(), std::memory_order_acq_rel,
                                    std::memory_order_relaxed)) {
    return true;
  }
  return expected == blocked_marker(); // an external owner's earlier wait timed out
}

signal* inbox::close() noexcept {
  signal* head = head_.exchange(closed_marker(), std::memory_order_acq_rel);
  if (head == blocked_marker() || head == closed_marker()) {
    return nullptr;
  }
  return reverse(head);
}

void inbox::reopen() noexcept {
  head_.store(nullptr, std::memory_order_release);
}

} // namespace vigil::detail
