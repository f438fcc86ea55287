// SPDX-License-Identifier: Apache-2.0
// How a process receives: the mailbox scan and its index, completing a receive, and draining
// the inbox into the mailbox or straight into a waiting receive. The numbers in comments are
// the points of docs/erlang-semantics.md.
#include "mailbox_index.hpp"
#include "matchers.hpp"
#include "runtime_impl.hpp"

#include <exception>
#include <new>

namespace vigil::detail {
namespace {

const atom mailbox_overflow("mailbox_overflow");

} // namespace

// -- receive --------------------------------------------------------------------------------

namespace {

/// Patterns bind into a scratch area; a match keeps just the values it bound.
thread_local bindings scratch;

/// A mailbox this long gets an index when a receive with fixed heads meets it: below it,
/// testing every message costs less than filing each one.
constexpr std::uint32_t index_from_length = 64;

bool binds(const matcher& m) noexcept {
  return m.test == &match_one || m.test == &match_clauses;
}

} // namespace

// Defined here, beside the drains that call it on every queued message, so that they
// inline it; handle() calls it for the rare message that reaches it.
void runtime_impl::queue_message(process* p, signal* s) noexcept {
  if (!p->append_message(s)) [[unlikely]] {
    p->exit_reason = term(mailbox_overflow);
    p->wait = wait_kind::exiting;
  }
}

void runtime_impl::take(process* p, context::receive_awaiter& r, signal* node, int clause) {
  if (binds(r.match_)) {
    r.result_.keep(scratch); // first: if it throws, the message is still queued
  }
  hand_over(p, r, node, clause);
}

bool runtime_impl::scan_mailbox(process* p, context::receive_awaiter& r) {
  if (p->scanned_upto == nullptr) {
    if (r.match_.test == &match_any) {
      // `receive()` takes the oldest message: nothing to test, nothing bound.
      if (p->mailbox_head == nullptr) {
        return false;
      }
      take_oldest(p, r);
      return true;
    }
    if (p->index != nullptr || p->mailbox_len >= index_from_length) {
      receive_heads heads; // only here: building it costs a short receive 20 %
      if (heads_of(r.match_, heads) && (p->index != nullptr || p->build_index())) {
        return scan_classes(p, r, heads);
      }
    }
  }
  signal* prev = p->scanned_upto;
  signal* node = prev != nullptr ? prev->next : p->mailbox_head;
  while (node != nullptr) {
    int clause = r.match_(node->payload, scratch);
    if (clause >= 0) {
      take(p, r, node, clause);
      return true;
    }
    prev = node;
    node = node->next;
  }
  // Only messages that arrive later need looking at again (9, 11).
  p->scanned_upto = prev;
  return false;
}

bool runtime_impl::scan_classes(process* p, context::receive_awaiter& r,
                                const receive_heads& heads) {
  // Every message the receive can match is in one of these classes: walk them merged in
  // arrival order, so that the oldest matching message is taken (9) and the others are
  // tested in the order a full scan would test them.
  std::array<const message_class*, receive_heads::max> classes{};
  std::array<std::size_t, receive_heads::max> next{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < heads.count; ++i) {
    if (const message_class* c = p->index->find(heads.heads[i])) {
      classes[n++] = c;
    }
  }
  for (;;) {
    signal* oldest = nullptr;
    std::size_t from = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (next[i] < classes[i]->size()) {
        signal* s = classes[i]->at(next[i]);
        if (oldest == nullptr || s->extra < oldest->extra) {
          oldest = s;
          from = i;
        }
      }
    }
    if (oldest == nullptr) {
      break;
    }
    int clause = r.match_(oldest->payload, scratch);
    if (clause >= 0) {
      take(p, r, oldest, clause);
      return true;
    }
    ++next[from];
  }
  // No queued message can match: only later ones need looking at (9, 11).
  p->scanned_upto = p->mailbox_tail;
  return false;
}

bool runtime_impl::complete_receive(process* p) {
  auto& r = *p->pending;
  if (!r.result_.timed_out()) {
    // drain() handed it a message straight from the inbox.
  } else if (p->mailbox_head == nullptr || !scan_mailbox(p, r)) {
    if (!p->timer_fired && r.after_ != timeout::zero()) {
      return false;
    }
    r.result_.clause = -1;
  }
  p->pending = nullptr;
  if (p->timer_seq != 0) [[unlikely]] { // a receive with `after`; timer_fired implies a timer
    if (!p->timer_fired) {
      timers.cancel(p->timer_seq);
    }
    p->timer_seq = 0;
    p->timer_fired = false;
  }
  return true;
}

// -- signals --------------------------------------------------------------------------------

// The common receive meets an empty mailbox and a new message it accepts. That message is the
// oldest the receive could take (nothing older is queued, and signals are handled in arrival
// order), so it goes straight into the result instead of being linked into the mailbox and
// unlinked again (9). Signals behind it are handled as usual; if one of them ends the
// process, the taken message dies with the receive's frame, as it would have died with the
// mailbox. If keeping what the receive's pattern bound fails for want of memory, the message
// is queued as usual and the receive takes it from the mailbox later. A matcher that throws
// (a receive_if predicate) leaves `m` as it was: the caller queues it and what came after it
// before the exception goes on to the receiving process (4).
[[gnu::always_inline]] inline bool
runtime_impl::try_hand_over(process* p, context::receive_awaiter& r, signal* m) {
  if (!r.result_.timed_out() || p->mailbox_head != nullptr) {
    return false;
  }
  int clause = r.match_.test == &match_any ? 0 : r.match_(m->payload, scratch);
  if (clause < 0) {
    return false;
  }
  if (binds(r.match_)) {
    try {
      r.result_.keep(scratch);
    } catch (const std::bad_alloc&) {
      return false;
    }
  }
  p->scanned_upto = nullptr;
  r.result_.clause = clause;
  give_payload(r.result_.message, m);
  return true;
}

void runtime_impl::drain_into(process* p, context::receive_awaiter* r) {
  signal* s = p->signals.take_all_newest_first();
  if (s == nullptr) {
    return;
  }
  // A ring hop, a request or its reply: one message for a receive() that takes any message,
  // with nothing queued before it. It goes straight into the result, with no call left
  // but the free's slow path, in tail position: this path saves no registers. (A full
  // try_hand_over here made every drain save six.)
  if (s->next == nullptr && s->kind == signal_kind::message && s->target_serial == p->id().serial
      && r != nullptr && r->match_.test == &match_any && r->result_.timed_out()
      && p->mailbox_head == nullptr) [[likely]] {
    p->scanned_upto = nullptr;
    r->result_.clause = 0;
    give_payload(r->result_.message, s);
    return;
  }
  drain_slow(p, r, s);
}

void runtime_impl::drain_slow(process* p, context::receive_awaiter* r, signal* s) {
  if (s->next != nullptr) [[unlikely]] {
    drain_batch(p, r, s);
    return;
  }
  // One signal, as in a ring or a request and its reply: nothing to put in order.
  if (s->kind != signal_kind::message || s->target_serial != p->id().serial) [[unlikely]] {
    handle(p, s);
    return;
  }
  offer(p, r, s);
}

// Hands message `s` to `r` if it takes it, else queues it (what handle() does with a
// message, without its dispatch). If `r`'s matcher throws, `s` is queued, to stay for a
// later receive, and the exception goes on.
void runtime_impl::offer(process* p, context::receive_awaiter* r, signal* s) {
  if (r != nullptr) {
    try {
      if (try_hand_over(p, *r, s)) {
        return;
      }
    } catch (...) {
      queue_message(p, s);
      throw;
    }
  }
  queue_message(p, s);
}

void runtime_impl::drain_batch(process* p, context::receive_awaiter* r, signal* newest) {
  // One pass over the batch puts it in arrival order, links each signal's `prev` as the
  // mailbox does, and finds whether it holds only messages for this process. A receiver
  // behind a busy sender takes batches of hundreds of messages, larger than L1: a second
  // walk over them (reversing, then queueing one by one) cost a tenth of a message.
  const std::uint32_t serial = p->id().serial;
  signal* s = nullptr;
  std::uint32_t count = 0;
  bool only_messages = true;
  for (signal* at = newest; at != nullptr;) {
    signal* older = at->next;
    only_messages &= at->kind == signal_kind::message && at->target_serial == serial;
    at->next = s;
    if (s != nullptr) {
      s->prev = at;
    }
    s = at;
    ++count;
    at = older;
  }
  // Only messages, no mailbox bound and no index: after the first, which a waiting receive
  // may take, the batch joins the mailbox whole.
  if (only_messages && p->max_mailbox == 0 && p->index == nullptr) [[likely]] {
    // Joins the batch from `first` on, `n` messages, to the mailbox.
    auto join = [p, newest](signal* first, std::uint32_t n) noexcept {
      first->prev = p->mailbox_tail;
      if (p->mailbox_tail == nullptr) {
        p->mailbox_head = first;
      } else {
        p->mailbox_tail->next = first;
      }
      p->mailbox_tail = newest; // its `next` is null: it was linked first
      p->mailbox_len += n;
      p->publish_mailbox_len();
    };
    signal* second = s->next; // a batch holds two signals at least
    bool taken = false;
    if (r != nullptr) {
      try {
        taken = try_hand_over(p, *r, s);
      } catch (...) {
        join(s, count); // the matcher threw: the whole batch stays for later receives
        throw;
      }
    }
    if (taken) {
      join(second, count - 1);
    } else {
      join(s, count);
    }
    return;
  }
  while (s != nullptr) {
    signal* next = s->next;
    if (s->kind != signal_kind::message || s->target_serial != serial) [[unlikely]] {
      handle(p, s);
    } else {
      try {
        offer(p, r, s);
      } catch (...) {
        // The matcher threw, and `s` is queued: the rest are handled as if no receive were
        // waiting, in order, before the exception goes on.
        for (s = next; s != nullptr; s = next) {
          next = s->next;
          handle(p, s);
        }
        throw;
      }
    }
    s = next;
  }
}

} // namespace vigil::detail
