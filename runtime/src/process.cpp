// SPDX-License-Identifier: Apache-2.0
#include "process.hpp"

namespace vigil::detail {

bool process::append_message(signal* s) noexcept {
  if (max_mailbox != 0 && mailbox_len >= max_mailbox) {
    signal::dispose(s);
    if (on_overflow == overflow_policy::exit) {
      return false;
    }
    ++dropped;
    return true;
  }
  s->next = nullptr;
  if (mailbox_tail == nullptr) {
    mailbox_head = s;
  } else {
    mailbox_tail->next = s;
  }
  mailbox_tail = s;
  ++mailbox_len;
  return true;
}

void process::unlink_message(signal* prev, signal* node) noexcept {
  if (prev == nullptr) {
    mailbox_head = node->next;
  } else {
    prev->next = node->next;
  }
  if (mailbox_tail == node) {
    mailbox_tail = prev;
  }
  --mailbox_len;
}

void process::clear_mailbox() noexcept {
  signal* s = mailbox_head;
  while (s != nullptr) {
    signal* next = s->next;
    signal::dispose(s);
    s = next;
  }
  mailbox_head = mailbox_tail = scanned_upto = nullptr;
  mailbox_len = 0;
}

} // namespace vigil::detail
