// SPDX-License-Identifier: Apache-2.0
// How a process handles the signals it receives, runs its turns and dies. The numbers in
// comments are the points of docs/erlang-semantics.md.
#include "vigil/common/assert.hpp"

#include "mailbox_index.hpp"
#include "matchers.hpp"
#include "runtime_impl.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <new>
#include <typeinfo>

namespace vigil::detail {
namespace {

const atom mailbox_overflow("mailbox_overflow");
const atom exception_atom("exception");
const atom bad_await("bad_await");
const atom nonode("nonode@nohost");

template <class T, class Pred>
bool erase_first(std::vector<T>& v, Pred pred) {
  auto it = std::find_if(v.begin(), v.end(), pred);
  if (it == v.end()) {
    return false;
  }
  v.erase(it);
  return true;
}

term down_message(reference ref, pid who, term reason) {
  return term::tuple({atoms::down, ref, atoms::process, who, std::move(reason)});
}

} // namespace

// -- one turn -------------------------------------------------------------------------------

void runtime_impl::run(process* p) {
  scheduler::set_current(p);
  p->status.store(process_status::running, std::memory_order_relaxed);
  p->turn_reductions = 0;
  for (;;) {
    try {
      drain(p);
    } catch (...) {
      fail_receive(p);
    }
    if (p->wait == wait_kind::exiting && !p->blocking_in_flight) {
      die(p);
      break;
    }
    bool go = false;
    switch (p->wait) {
    case wait_kind::start:
    case wait_kind::ready: go = true; break;
    case wait_kind::receive: try { go = complete_receive(p);
      } catch (...) {
        fail_receive(p);
        continue; // and die
      }
      break;
    default: break; // blocking, or exiting while blocking work finishes
    }
    if (!go) {
      if (p->signals.try_block()) {
        p->status.store(process_status::waiting, std::memory_order_relaxed);
        break;
      }
      continue; // signals arrived meanwhile
    }
    p->wait = wait_kind::ready;
    if (p->turn_reductions >= options.reductions_per_turn) {
      // Its turn is used up: behind everyone else, with its wait already completed.
      p->status.store(process_status::runnable, std::memory_order_relaxed);
      scheduler_.schedule_fair(p);
      break;
    }
    ++p->reductions;
    ++p->turn_reductions;
    auto resume = std::exchange(p->resume_point, {});
    resume.resume();
    if (p->body.done()) {
      finish_body(p);
      die(p);
      break;
    }
    if (!p->resume_point) {
      // Suspended on an awaitable that is not the runtime's: nothing would ever resume it.
      p->exit_reason = term(bad_await);
      p->wait = wait_kind::exiting;
      continue;
    }
    if (p->yield_requested) {
      p->yield_requested = false;
      p->status.store(process_status::runnable, std::memory_order_relaxed);
      scheduler_.schedule_fair(p);
      break;
    }
    // Suspended in a receive that found nothing: await_ready() drained the inbox and scanned
    // the mailbox just before, and its timer (if any) can only fire through the inbox. So
    // unless a signal has come in since, which try_block() sees, another drain and scan
    // would find nothing either: block at once. Most turns end here (a ring hop, a server
    // waiting for its next request).
    if (p->wait == wait_kind::receive && p->signals.try_block()) {
      p->status.store(process_status::waiting, std::memory_order_relaxed);
      break;
    }
  }
  scheduler::set_current(nullptr);
}

void runtime_impl::finish_body(process* p) {
  auto& promise = p->body.promise();
  if (!promise.failure) {
    p->exit_reason = term(atoms::normal);
    return;
  }
  // A body that throws exits with a reason naming the exception (4); nothing reaches the
  // scheduler thread.
  p->exit_reason = exception_reason(promise.failure);
}

term runtime_impl::exception_reason(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return term::tuple({exception_atom, term(e.what())});
  } catch (...) {
    return term::tuple({exception_atom, term("unknown exception")});
  }
}

// A receive's matcher (a receive_if predicate) that throws while the scheduler finishes the
// receive for a waiting process ends that process as a throw from its body would (4). The
// signals drained with it stay queued (drain_into); nothing reaches the scheduler thread.
void runtime_impl::fail_receive(process* p) {
  p->exit_reason = exception_reason(std::current_exception());
  p->wait = wait_kind::exiting;
}

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

/// Queues a message in the mailbox; over a bound whose policy is to exit, ends the process.
inline void queue_message(process* p, signal* s) noexcept {
  if (!p->append_message(s)) [[unlikely]] {
    p->exit_reason = term(mailbox_overflow);
    p->wait = wait_kind::exiting;
  }
}

} // namespace

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
  bool taken = false;
  if (r != nullptr) {
    try {
      taken = try_hand_over(p, *r, s);
    } catch (...) {
      queue_message(p, s); // the matcher threw: the message stays for a later receive
      throw;
    }
  }
  if (!taken) {
    queue_message(p, s); // what handle() does with a message, without its dispatch
  }
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
      s = next;
      continue;
    }
    bool taken = false;
    if (r != nullptr) {
      try {
        taken = try_hand_over(p, *r, s);
      } catch (...) {
        // The matcher threw: this message and the rest are handled as if no receive were
        // waiting, in order, before the exception goes on.
        queue_message(p, s);
        for (s = next; s != nullptr; s = next) {
          next = s->next;
          handle(p, s);
        }
        throw;
      }
    }
    if (!taken) {
      queue_message(p, s);
    }
    s = next;
  }
}

void runtime_impl::handle(process* p, signal* s) {
  if (s->target_serial != p->id().serial) {
    // Addressed to an earlier process in this slot, which is dead.
    answer_dead(pid{0, p->id().index, s->target_serial}, s);
    return;
  }
  switch (s->kind) {
  case signal_kind::message: queue_message(p, s); return;
  case signal_kind::exit: handle_exit(p, s, false); return;
  case signal_kind::exit_linked: handle_exit(p, s, true); return;
  case signal_kind::link: {
    auto& links = p->rels().links;
    if (std::find(links.begin(), links.end(), s->from) == links.end()) {
      links.push_back(s->from); // at most one link per pair (12)
    }
    break;
  }
  case signal_kind::unlink:
    if (p->rel != nullptr) {
      erase_first(p->rel->links, [&](const pid& l) { return l == s->from; });
    }
    break;
  case signal_kind::monitor:
    p->rels().monitored_by.push_back({s->payload.as_reference(), s->from});
    break;
  case signal_kind::demonitor:
    if (p->rel != nullptr) {
      auto ref = s->payload.as_reference();
      erase_first(p->rel->monitored_by, [&](const monitor_entry& m) { return m.ref == ref; });
    }
    break;
  case signal_kind::down: {
    // A DOWN for a monitor dropped meanwhile is discarded (17).
    auto ref = s->payload[1].as_reference();
    if (p->rel != nullptr
        && erase_first(p->rel->monitors, [&](const monitor_entry& m) { return m.ref == ref; })) {
      s->kind = signal_kind::message;
      if (!p->append_message(s)) {
        p->exit_reason = term(mailbox_overflow);
        p->wait = wait_kind::exiting;
      }
      return;
    }
    break;
  }
  case signal_kind::timeout:
    if (s->extra == p->timer_seq && p->wait == wait_kind::receive) {
      p->timer_fired = true;
    }
    break;
  case signal_kind::resume:
    p->blocking_in_flight = false;
    if (p->wait == wait_kind::blocking) {
      p->wait = wait_kind::ready;
    }
    break;
  case signal_kind::info: {
    auto* req = reinterpret_cast<info_request*>(s->extra);
    std::lock_guard lock(req->mutex);
    req->answer = snapshot(p);
    req->done = true;
    req->cv.notify_all();
    break;
  }
  }
  signal::dispose(s);
}

// Semantics 14, receiver side.
void runtime_impl::handle_exit(process* p, signal* s, bool linked) {
  if (p->wait == wait_kind::exiting) {
    signal::dispose(s); // already dying
    return;
  }
  const term& reason = s->payload;
  if (linked) {
    bool had_link =
        p->rel != nullptr && erase_first(p->rel->links, [&](const pid& l) { return l == s->from; });
    if (!had_link || (!p->trapping && reason.is(atoms::normal))) {
      signal::dispose(s); // the link was removed meanwhile, or a normal exit
      return;
    }
  } else if (reason.is(atoms::kill)) {
    p->exit_reason = term(atoms::killed); // never trappable
    p->wait = wait_kind::exiting;
    signal::dispose(s);
    return;
  } else if (!p->trapping && reason.is(atoms::normal)) {
    if (s->from == p->id()) {
      p->exit_reason = term(atoms::normal); // exit(self(), normal) ends the caller
      p->wait = wait_kind::exiting;
    }
    signal::dispose(s);
    return;
  }
  if (p->trapping) {
    s->kind = signal_kind::message;
    s->payload = term::tuple({atoms::exit, s->from, reason});
    if (!p->append_message(s)) {
      p->exit_reason = term(mailbox_overflow);
      p->wait = wait_kind::exiting;
    }
    return;
  }
  p->exit_reason = reason;
  p->wait = wait_kind::exiting;
  signal::dispose(s);
}

void runtime_impl::answer_dead(pid target, signal* s) {
  switch (s->kind) {
  case signal_kind::link: // the linker gets an exit signal :noproc (12)
    deliver(s->from, signal_kind::exit_linked, target, term(atoms::noproc));
    break;
  case signal_kind::monitor: // an immediate DOWN :noproc (17)
    deliver(s->from, signal_kind::down, target,
            down_message(s->payload.as_reference(), target, term(atoms::noproc)));
    break;
  case signal_kind::info: {
    auto* req = reinterpret_cast<info_request*>(s->extra);
    std::lock_guard lock(req->mutex);
    req->done = true;
    req->cv.notify_all();
    break;
  }
  default: break;
  }
  signal::dispose(s);
}

// -- death ----------------------------------------------------------------------------------

void runtime_impl::die(process* p) {
  p->status.store(process_status::exiting, std::memory_order_relaxed);
  if (p->body) {
    p->body.destroy(); // runs the destructors of the body's locals
    p->body = {};
  }
  if (p->keep != nullptr) {
    p->drop(p->keep);
    p->keep = nullptr;
  }
  pid me = p->id();
  term reason = std::exchange(p->exit_reason, term());
  // A pid found dead must not show the mailbox it had (stats.cpp reads the length between
  // two loads of the serial): the length goes to zero before the serial moves on.
  p->mailbox_len_seen.store(0, std::memory_order_relaxed);
  // Dead from now on: `alive` is false and new signals are refused. Its name goes before
  // any EXIT or DOWN does (13).
  p->serial.fetch_add(1, std::memory_order_seq_cst);
  names.remove_process(*p, me);
  signal* rest = p->signals.close();
  p->clear_mailbox();
  relations* rel = std::exchange(p->rel, nullptr);
  notify_death(p, reason, rel);
  delete rel;
  // Signals that arrived after death are answered after the death notices, so that a
  // watcher sees its monitor's DOWN before the :noproc of a later monitor (6).
  while (rest != nullptr) {
    signal* next = rest->next;
    answer_dead(me, rest);
    rest = next;
  }
  p->pending = nullptr;
  p->resume_point = {};
  p->timer_seq = 0;
  p->timer_fired = false;
  p->blocking_in_flight = false;
  p->yield_requested = false;
  p->trapping = false;
  p->wait = wait_kind::dead;
  bool was_external = p->external.load(std::memory_order_relaxed);
  table.release(p);
  if (was_external) {
    release_external();
  }
  release_live();
}

void runtime_impl::notify_death(process* p, const term& reason, relations* rel) {
  if (rel == nullptr) {
    return;
  }
  pid me = p->id();
  for (const pid& l : rel->links) {
    deliver(l, signal_kind::exit_linked, me, reason);
  }
  for (const auto& m : rel->monitored_by) {
    deliver(m.other, signal_kind::down, me, down_message(m.ref, me, reason));
  }
  for (const auto& m : rel->monitors) {
    deliver(m.other, signal_kind::demonitor, me, term(m.ref));
  }
}

} // namespace vigil::detail
