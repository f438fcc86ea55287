// SPDX-License-Identifier: Apache-2.0
#include "signal.hpp"

namespace vigil::detail {

signal inbox::markers_[2];

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
