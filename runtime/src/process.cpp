// SPDX-License-Identifier: Apache-2.0
#include "process.hpp"

#include "mailbox_index.hpp"

#include <new>

namespace vigil::detail {

bool process::refuse_message(signal* s) noexcept {
  signal::dispose(s);
  if (on_overflow == overflow_policy::exit) {
    return false;
  }
  ++dropped;
  return true;
}

void process::index_message(signal* s) noexcept {
  try {
    index->add(s);
  } catch (const std::bad_alloc&) {
    drop_index(); // receives scan again, as without an index
  }
}

void process::unlink_indexed(signal* node) noexcept {
  index->remove(node); // first: the index finds the message by its payload
  unlink_links(node);
  --mailbox_len;
  publish_mailbox_len();
  if (mailbox_len == 0) {
    drop_index(); // short mailboxes go without; a later long one builds a new one
  }
}

void process::drop_index() noexcept {
  delete index;
  index = nullptr;
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
