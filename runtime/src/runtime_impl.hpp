// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/futex.hpp"
#include "vigil/runtime/options.hpp"

#include "blocking_pool.hpp"
#include "process.hpp"
#include "process_table.hpp"
#include "registry.hpp"
#include "scheduler.hpp"
#include "timer_service.hpp"
#include "watchdog.hpp"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>

namespace vigil {
class runtime;
}

namespace vigil::detail {

struct receive_heads;

/// An info request in flight: the requester waits until the target fills it in.
struct info_request {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::optional<process_info> answer;
};

/// The runtime's parts and the process lifecycle that ties them together: spawn, signal
/// delivery, signal handling and death. The semantics points of `docs/erlang-semantics.md`
/// are implemented here, in process_signals.cpp and in process_receive.cpp.
class runtime_impl {
public:
  runtime_impl(runtime& owner, runtime_options options);
  runtime_impl(const runtime_impl&) = delete;
  runtime_impl& operator=(const runtime_impl&) = delete;
  runtime_impl(runtime_impl&&) = delete;
  runtime_impl& operator=(runtime_impl&&) = delete;
  ~runtime_impl();

  // -- lifecycle ----------------------------------------------------------------------------
  result<pid> spawn(process* parent, spawn_request& request);
  process* make_external();
  void shutdown();

  /// Delivers a signal; false when the target is dead (nothing was queued).
  bool deliver(pid to, signal_kind kind, pid from, term payload, std::uint64_t extra = 0);

  /// deliver() of a message, inline, with the message moved once: every send takes it.
  /// Its common path makes no call but tail calls: a call (the pool's refill was one) made
  /// every send save and restore six registers around it.
  void send_message(const pid& to, const pid& from, term&& message) {
    process* p = find(to);
    if (p == nullptr) [[unlikely]] {
      send_elsewhere(to, from, std::move(message)); // dead, or on another node
      return;
    }
    void* block = pool_try_allocate(sizeof(signal));
    if (block == nullptr) [[unlikely]] {
      send_refilling(p, from, to.serial, std::move(message));
      return;
    }
    push_message(p, new (block) signal(signal_kind::message, from, to.serial, std::move(message)));
  }

  /// The end of a send: queues `s` and wakes its receiver if it waited.
  void push_message(process* p, signal* s) {
    switch (p->signals.push(s)) {
    case inbox::push_result::queued: return;
    case inbox::push_result::woke_owner: wake(p); return;
    case inbox::push_result::closed: answer_dead_message(s); return;
    }
  }

  /// send_message() when this thread's signal list is empty (or the pool is off): out of
  /// line, so that the send's common path makes no call.
  [[gnu::noinline]] void send_refilling(process* p, pid from, std::uint32_t serial, term&& message);

  /// A message that found its receiver's inbox closed (it died meanwhile) is dropped, as a
  /// send to a dead pid is (5). Out of line and cold, and without the pid (which a message
  /// needs for no answer), so that the send keeps no copy of it across the push.
  [[gnu::noinline, gnu::cold]] void answer_dead_message(signal* s);

  /// send_message() to a pid with no live local process: deliver() of the message. Out of
  /// line and cold, so that the send's fast path keeps its pids in registers instead of
  /// building deliver()'s arguments on the stack first.
  [[gnu::noinline, gnu::cold]] void send_elsewhere(pid to, pid from, term&& message);

  /// Runs the process's side of a receive/yield/blocking wait until it suspends for good or
  /// dies. Called by a scheduler thread that owns `p`.
  void run(process* p);

  // -- signal handling (process_receive.cpp, process_signals.cpp) ----------------------------
  /// Takes and handles every queued signal of `p`. Messages move to the mailbox, except one
  /// that a pending receive takes straight from the inbox (drain_into).
  /// Inline, as most calls find the inbox empty.
  void drain(process* p) {
    if (p->signals.maybe_nonempty()) {
      drain_into(p, p->wait == wait_kind::receive ? p->pending : nullptr);
    }
  }

  /// drain(), handing the first message that `r` accepts (if the mailbox is empty) straight
  /// to `r`'s result: `r->result_` then says it matched. `r` may be null.
  void drain_into(process* p, context::receive_awaiter* r);
  /// drain_into() of what its inline fast path does not take: a batch, a signal that is not
  /// a message, a receive with patterns, a mailbox that is not empty.
  [[gnu::noinline]] void drain_slow(process* p, context::receive_awaiter* r, signal* s);
  /// drain_into() of more than one signal, `newest` first.
  void drain_batch(process* p, context::receive_awaiter* r, signal* newest);
  /// Hands message `m` to `r` if `r` accepts it and the mailbox is empty (drain_into).
  /// Throws what `r`'s matcher throws, with `m` untouched. Inline: defined in
  /// process_receive.cpp, its only user.
  static inline bool try_hand_over(process* p, context::receive_awaiter& r, signal* m);
  /// Hands message `s` to `r` (may be null) or queues it; queues it too if `r`'s matcher
  /// throws, before the exception goes on.
  static void offer(process* p, context::receive_awaiter* r, signal* s);
  /// The exit reason for a process that threw `failure`: {exception, What} (4).
  static term exception_reason(const std::exception_ptr& failure);
  /// Ends `p`, waiting in a receive whose matcher threw, with that exception as its reason.
  /// Called from a catch block.
  static void fail_receive(process* p);
  /// Queues message `s` in the mailbox of `p`; over a bound whose policy is to exit, ends
  /// `p` (process_receive.cpp).
  static void queue_message(process* p, signal* s) noexcept;
  /// Ends `p`: releases its frame, name, links and monitors and frees its slot.
  void die(process* p);
  /// Whether the pending receive of `p` can complete now (a match, or its timer fired).
  /// Called after drain(), which may have handed the receive its message already.
  bool complete_receive(process* p);
  /// Scans the mailbox of `p` from its save point for the pending receive.
  bool scan_mailbox(process* p, context::receive_awaiter& r);
  /// The first scan of a receive whose clauses all have fixed heads: only the messages
  /// filed under those heads in the mailbox index are tested.
  bool scan_classes(process* p, context::receive_awaiter& r, const receive_heads& heads);
  /// Takes `node` out of the mailbox as the result of `r`.
  void take(process* p, context::receive_awaiter& r, signal* node, int clause);

  /// take() of the oldest message for `receive()`, which binds nothing: inline, as a
  /// receiver behind a batch of messages takes each one so. The caller has cleared
  /// `scanned_upto` (a receive() always scans from the start).
  void take_oldest(process* p, context::receive_awaiter& r) noexcept {
    signal* node = p->unlink_oldest(); // no save point to clear: its callers have
    r.result_.clause = 0;
    give_payload(r.result_.message, node);
  }

  /// Moves `node`'s message out of the mailbox into `r`'s result (what take() does besides
  /// keeping the bindings).
  static void hand_over(process* p, context::receive_awaiter& r, signal* node,
                        int clause) noexcept {
    p->unlink_message(node); // first: the index finds the message by its payload
    p->scanned_upto = nullptr;
    r.result_.clause = clause;
    give_payload(r.result_.message, node);
  }

  /// Moves `s`'s message into `to` and frees `s`, whose payload is then nil: the free skips
  /// the payload's destructor. Last in its callers, so that the free's slow path is a tail
  /// call.
  static void give_payload(term& to, signal* s) noexcept {
    // `to` is a receive's result, nil until it holds a message (clause >= 0; await_resume
    // moves it out): the payload is moved in by construction, with no test of what `to`
    // held and nothing to release.
    std::construct_at(&to, std::move(s->payload));
    signal::free_emptied(s);
  }

  [[nodiscard]] bool alive(pid p) const noexcept;

  [[nodiscard]] process* find(pid p) const noexcept {
    if (p.node != 0) {
      return nullptr;
    }
    process* proc = table.slot(p.index);
    if (proc == nullptr || proc->serial.load(std::memory_order_acquire) != p.serial) {
      return nullptr;
    }
    return proc;
  }

  std::optional<process_info> info(pid p);
  process_info snapshot(process* p) const;

  reference make_ref() noexcept;
  void arm_timer(process* p, timeout after);

  void yield_to_others(process* p) { scheduler_.schedule_fair(p); }

  runtime& owner;
  runtime_options options;
  process_table table;
  registry names;
  scheduler scheduler_;
  timer_service timers;
  blocking_pool pool;
  watchdog watchdog_;

  std::atomic<std::uint64_t> next_ref{1};
  std::atomic<std::size_t> live{0};
  std::atomic<std::size_t> externals{0};
  std::atomic<bool> stopping{false};
  std::mutex idle_mutex;
  std::condition_variable idle_cv;

  /// Makes a suspended process runnable (or wakes the thread of an external one). Inline:
  /// every send that finds its receiver waiting (each ring hop, each ping-pong) calls it.
  void wake(process* p) {
    if (p->external.load(std::memory_order_relaxed)) [[unlikely]] {
      wake_external(p);
      return;
    }
    p->status.store(process_status::runnable, std::memory_order_relaxed);
    scheduler_.schedule(p);
  }

  /// Removes a dead external process's bookkeeping.
  void release_external() noexcept { externals.fetch_sub(1, std::memory_order_acq_rel); }

private:
  process* claim_slot();
  void discard(process* p) noexcept;
  void release_live() noexcept;
  void handle(process* p, signal* s);
  void handle_exit(process* p, signal* s, bool linked);
  void answer_dead(pid target, signal* s);
  void wake_external(process* p);
  void notify_death(process* p, const term& reason, relations* rel);
  void finish_body(process* p);

  std::uint32_t ref_salt_ = 0;
};

/// Wakes every thread waiting in `futex_wait` on `word` (a word private to this process).
inline void futex_wake(std::atomic<std::uint32_t>& word) noexcept {
  futex::wake_all(word, futex::sharing::process_private);
}

/// Waits while `word == seen`, up to `ms` milliseconds (forever if negative).
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                       std::int64_t ms) noexcept {
  if (ms < 0) {
    futex::wait_untimed(word, seen, futex::sharing::process_private);
  } else {
    futex::wait(word, seen, std::chrono::milliseconds(ms), futex::sharing::process_private);
  }
}

} // namespace vigil::detail
