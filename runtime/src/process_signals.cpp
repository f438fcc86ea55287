// SPDX-License-Identifier: Apache-2.0
// How a process runs its turns, handles the signals other than messages, and dies; how it
// receives is in process_receive.cpp. The numbers in comments are the points of
// docs/erlang-semantics.md.
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

void runtime_impl::handle(process* p, signal* s) {
  if (s->target_serial != p->id().serial) {
    // Addressed to an earlier process in this slot, which is dead.
    answer_dead(pid{0, p->id().index, s->target_serial}, s);
    return;
  }
  switch (s->kind) {
  case signal_kind::message: queue_message(p, s); return; // process_receive.cpp
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
