// SPDX-License-Identifier: Apache-2.0
#include "process.hpp"

#include "mailbox_index.hpp"

#include <new>

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
  s->prev = mailbox_tail;
  if (mailbox_tail == nullptr) {
    mailbox_head = s;
  } else {
    mailbox_tail->next = s;
  }
  mailbox_tail = s;
  ++mailbox_len;
  publish_mailbox_len();
  if (index != nullptr) {
    try {
      index->add(s);
    } catch (const std::bad_alloc&) {
      drop_index(); // receives scan again, as without an index
    }
  }
  return true;
}

void process::drop_index() noexcept {
  delete index;
  index = nullptr;
}

void process::unlink_message(signal* node) noexcept {
  if (index != nullptr) {
    index->remove(node);
  }
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
  --mailbox_len;
  publish_mailbox_len();
  if (mailbox_len == 0) {
    drop_index(); // short mailboxes go without; a later long one builds a new one
  }
}

bool process::build_index() noexcept {
  try {
    index = new mailbox_index;
    for (signal* s = mailbox_head; s != nullptr; s = s->next) {
      index->add(s);
    }
    return true;
  } catch (const std::bad_alloc&) {
    drop_index();
    return false;
  }
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
  publish_mailbox_len();
  drop_index();
}

} // namespace vigil::detail
