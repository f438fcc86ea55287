// SPDX-License-Identifier: Apache-2.0
// The work-stealing scheduler: a run queue per thread and a shared one for wake-ups from
// outside, the order of picking work (warm ping-pongs, no starvation), stealing, spinning,
// parking and waking idle threads, and stopping.
#include "scheduler.hpp"

#include "process.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <utility>

namespace vigil::detail {
namespace {

thread_local const scheduler* this_scheduler = nullptr;
thread_local void* this_worker = nullptr;

// The sleep of an idle thread is a futex on the epoch, called directly rather than through
// std::atomic::wait because a sleep may need a timeout (park()). Wake and wait must then both
// be raw futex calls: libstdc++'s notify skips the system call when its own waiter count,
// which a raw wait does not raise, says no one waits.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen, const timespec* timeout) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, timeout,
            nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word, int threads) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, threads,
            nullptr, nullptr, 0);
}

} // namespace

scheduler::scheduler(unsigned threads, run_fn run) : run_(std::move(run)) {
  const unsigned n = threads == 0 ? 1 : threads;
  for (unsigned i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<worker>());
    workers_.back()->views.resize(n);
  }
}

scheduler::~scheduler() {
  stop();
}

void scheduler::start() {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->thread = std::thread([this, i] { loop(i); });
  }
}

void scheduler::stop() {
  stop_.store(true, std::memory_order_seq_cst);
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake(epoch_, INT_MAX);
  for (auto& w : workers_) {
    if (w->thread.joinable()) {
      w->thread.join();
    }
  }
}

bool scheduler::on_worker() const noexcept {
  return this_scheduler == this;
}

void scheduler::schedule(process* p) {
  if (!on_worker()) {
    schedule_fair(p);
    return;
  }
  auto& w = *static_cast<worker*>(this_worker);
  // The woken process runs next on this warm thread, once the waking one suspends (Go's
  // runnext): a ping-pong or a ring hop skips the deque. What it displaces is queued behind.
  // Only this thread puts a process in its slot (thieves only empty it), so an empty slot
  // is filled with a plain store: a locked exchange only when there is one to displace.
  if (w.run_next.load(std::memory_order_relaxed) == nullptr) {
    w.run_next.store(p, std::memory_order_release);
    return;
  }
  if (process* displaced = w.run_next.exchange(p, std::memory_order_acq_rel)) {
    queue_displaced(w, displaced);
  } // else a thief took it meanwhile
}

[[gnu::noinline]] void scheduler::queue_displaced(worker& w, process* displaced) {
  w.local.push(displaced);
  // A second process made runnable in one turn: wake a thread in a deep sleep (one with no
  // timeout), even for this lone queued item. It takes the item only once it would wait long
  // (steal()), and meanwhile sleeps in short rechecks (park()); without the wake-up, a turn
  // that never ends would hold both processes until the watchdog's check. A thread already
  // in rechecks is not woken: it would find the wait still short, and a spawner would pay a
  // futex call per child. A ping-pong or a ring hop makes one process runnable per turn,
  // fills an empty slot and so never gets here.
  if (deep_sleepers_.load(std::memory_order_seq_cst) > 0) {
    wake_deep();
  }
}

process* scheduler::pop_run_next(worker& self) {
  if (self.run_next.load(std::memory_order_relaxed) == nullptr) {
    return nullptr;
  }
  // A chain of processes that keep waking each other runs at most run_next_chain turns
  // in a row; then, if work is queued behind it here, the one due next goes to the shared
  // queue, as if woken from outside, so that the queued work runs (and an idle thread may
  // take it), and it is back within 61 picks. With nothing queued here there is no one to
  // be fair to, and moving the chain would only wake the other thread and cool the caches.
  if (++self.chain > run_next_chain) {
    self.chain = 0;
    if (self.local.size() > 0 || !self.yielded.empty()) {
      if (process* p = self.run_next.exchange(nullptr, std::memory_order_acq_rel)) {
        push_global(p);
      }
      return nullptr;
    }
  }
  // With one thread there is no thief to race with, so no locked exchange: a plain load
  // and store. Every turn of a ping-pong or a ring hop comes through here.
  if (workers_.size() == 1) {
    process* p = self.run_next.load(std::memory_order_relaxed);
    self.run_next.store(nullptr, std::memory_order_relaxed);
    return p;
  }
  return self.run_next.exchange(nullptr, std::memory_order_acq_rel);
}

void scheduler::schedule_fair(process* p) {
  if (on_worker()) {
    auto& w = *static_cast<worker*>(this_worker);
    w.yielded.push_back(p);
    w.yielded_seen.store(w.yielded.size(), std::memory_order_relaxed);
    // A second process waiting here behind the running one: wake a thread in a deep sleep
    // (once per sleep, as queue_displaced() does), so that it looks again every held_recheck
    // and can ask for one of them if they wait long (steal()). Without it, two busy processes
    // that yield would alternate on this thread for good while the other sleeps: their turns
    // end, so the watchdog never sees them. The count is read with a plain load, not paired
    // with a fence: a sleeper missed now is seen when the next turn ends here.
    if (w.yielded.size() >= 2 && deep_sleepers_.load(std::memory_order_relaxed) > 0) {
      wake_deep();
    }
    return;
  }
  push_global(p);
}

void scheduler::push_global(process* p) {
  {
    std::lock_guard lock(global_mutex_);
    global_.push_back(p);
    global_size_.fetch_add(1, std::memory_order_seq_cst);
  }
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    wake_one();
  }
}

void scheduler::wake_one() {
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake(epoch_, 1);
}

// Wakes a thread in a deep sleep, once: a spawner queues more children before the woken
// thread has run and uncounted itself, and must not make a futex call for each. The first
// caller to clear a sleeper's flag wakes it; later ones find the flag clear. The futex word
// is shared with the timed sleepers, so all are woken to be sure the deep one is (this
// happens once per deep sleep).
void scheduler::wake_deep() {
  for (auto& w : workers_) {
    if (w->deep.load(std::memory_order_seq_cst)
        && w->deep.exchange(false, std::memory_order_seq_cst)) {
      epoch_.fetch_add(1, std::memory_order_seq_cst);
      futex_wake(epoch_, INT_MAX);
      return;
    }
  }
}

process* scheduler::pop_global() {
  if (global_size_.load(std::memory_order_seq_cst) == 0) {
    return nullptr;
  }
  std::lock_guard lock(global_mutex_);
  if (global_.empty()) {
    return nullptr;
  }
  process* p = global_.front();
  global_.pop_front();
  global_size_.fetch_sub(1, std::memory_order_seq_cst);
  return p;
}

process* scheduler::pop_yielded(worker& self) {
  if (self.yielded.empty()) {
    return nullptr;
  }
  process* p = self.yielded.front();
  self.yielded.pop_front();
  self.yielded_seen.store(self.yielded.size(), std::memory_order_relaxed);
  return p;
}

// Moves this thread's oldest yielded process to the shared queue, for the idle thread that
// asked (steal()); push_global() wakes it if it sleeps. Only when another yielded process
// remains to run here: with one, this thread would only hand its single busy process over
// and go idle. Whether the processes wait long was the thief's call, made from its clock.
void scheduler::give_yielded(worker& self) {
  self.give_one.store(false, std::memory_order_relaxed);
  if (self.yielded.size() >= 2) {
    push_global(pop_yielded(self));
  }
}

process* scheduler::find_work(worker& self, std::size_t index) {
  ++self.tick;
  // Now and then the shared queue goes first, so that processes woken from outside (by
  // timers, the blocking pool, other threads) get their turn on a busy thread...
  if (self.tick % 61 == 0) {
    if (process* p = pop_global()) {
      return p;
    }
  }
  // ...and, rarely, the oldest local work and the yielded processes, so that nothing starves
  // behind a pair of processes that keep waking each other. Only rarely: running old work
  // first turns the depth-first order that keeps a spawning tree small into breadth-first.
  if (self.tick % 4099 == 0) {
    if (process* p = self.local.steal()) {
      return p;
    }
    if (process* p = pop_yielded(self)) {
      return p;
    }
  }
  if (process* p = pop_run_next(self)) {
    return p;
  }
  self.chain = 0;
  if (process* p = self.local.pop()) {
    return p;
  }
  if (process* p = pop_global()) {
    return p;
  }
  // A process that yielded comes back once what it woke or spawned has run, as behind a
  // FIFO run queue: a spawner cannot outrun its own children. If an idle thread asked for
  // one of them, it is handed over first; only here, where the shared queue was just found
  // empty (so this pick cannot take it back) and off the path of a ping-pong or a ring hop,
  // which never reach this far.
  if (self.give_one.load(std::memory_order_relaxed)) [[unlikely]] {
    give_yielded(self);
  }
  if (process* p = pop_yielded(self)) {
    return p;
  }
  return steal(self, index);
}

// Stealing follows Go's and the BEAM's rule: take surplus work, never what the victim is
// about to run. Taking a ping-pong partner from its run-next slot, or a deque's only item
// that the victim pops right after its turn, splits a pair that wakes each other across
// two cores: every message then bounces the mailbox and process lines between them, and
// both threads spin on each other (2 threads were 10-40 % slower than 1 on every messaging
// bench, and noisy, before this). Surplus, too, is taken only when it would wait long
// (held_wait): a thief that took a spawner's trivially short children one by one made a
// cold spawn 0.30 us at 2 threads against 0.21 at 1. The victim's yielded processes, which
// only it may touch, are asked for instead (give_one) when they wait long: see
// yielded_wait_long().
process* scheduler::steal(worker& self, std::size_t index) {
  const std::size_t n = workers_.size();
  for (std::size_t k = 1; k < n; ++k) {
    const std::size_t v = (index + k) % n;
    auto& victim = *workers_[v];
    const std::size_t queued = victim.local.size();
    // Surplus: the victim runs its run-next process and its newest work first. Its slot is
    // not even read then: the victim writes it at every spawn or wake-up, and reading it at
    // every steal made spawn's 2-thread run 20 % slower.
    const bool has_next = queued < 2 && victim.run_next.load(std::memory_order_relaxed) != nullptr;
    const std::size_t yielded = victim.yielded_seen.load(std::memory_order_relaxed);
    if (queued == 0 && !has_next && yielded == 0) {
      // Measure its pace afresh once it holds work again: time it spent idle would make
      // its turns look long, and its short work worth taking.
      self.views[v].window_start = clock::time_point{};
      continue;
    }
    const bool stuck_turn = stuck(self, v);
    if (yielded > 0 && !victim.give_one.load(std::memory_order_relaxed)
        && yielded_wait_long(self, v, queued + yielded, stuck_turn)) {
      victim.give_one.store(true, std::memory_order_relaxed);
    }
    if (!stuck_turn && (queued < 2 || !long_backlog(self, v, queued))) {
      continue;
    }
    if (process* p = victim.local.steal()) {
      return p;
    }
    // The victim has held one turn for held_wait (a long turn, or its thread descheduled):
    // what it would run next is fair game.
    if (stuck_turn && has_next) {
      if (process* p = victim.run_next.exchange(nullptr, std::memory_order_acq_rel)) {
        return p;
      }
    }
  }
  return nullptr;
}

// Whether thread `v` has been on the same turn for held_wait, as far as this thread has
// seen: the victim's turn counter, which it keeps anyway, against the thief's clock. The
// clock is read only here, by a thread with nothing to run, never on the scheduling path.
// It also measures how long the victim's turns take, for long_backlog().
bool scheduler::stuck(worker& self, std::size_t v) {
  const std::uint64_t turns = workers_[v]->turns.load(std::memory_order_relaxed);
  const clock::time_point now = clock::now();
  auto& view = self.views[v];
  const clock::duration window = now - view.window_start;
  if (window > rate_window_max) {
    view.window_turns = turns;
    view.window_start = now;
    view.per_turn = clock::duration{0}; // stale: measure afresh before taking surplus
  } else if (window >= rate_window_min) {
    const std::uint64_t ran = std::max<std::uint64_t>(turns - view.window_turns, 1);
    view.per_turn = window / static_cast<clock::rep>(ran);
    view.window_turns = turns;
    view.window_start = now;
  }
  if (turns != view.turns) {
    view.turns = turns;
    view.since = now;
    return false;
  }
  return now - view.since >= held_wait;
}

// Whether `queued` processes on thread `v` would wait held_wait or more, at the pace its turns
// took over the last window stuck() measured (a turn that has not ended counts as one turn
// as long as the window). Unknown until one window has been measured: not long.
bool scheduler::long_backlog(worker& self, std::size_t v, std::size_t queued) {
  const clock::duration per_turn = self.views[v].per_turn;
  return per_turn * static_cast<clock::rep>(queued) >= held_wait;
}

// Whether thread `v`'s yielded processes (`held` with its queued ones) wait long enough that
// one should move here: behind a turn that has lasted held_wait, behind a backlog of
// held_wait (long_backlog()), or on a thread whose turns take long_turn or more, where a move
// to another core costs little against a turn. Not otherwise: oneway's sender and receiver
// use up their budgets every ~25 us on one thread and yield, and split across the cores
// would bounce the mailbox and pool lines at every message.
bool scheduler::yielded_wait_long(worker& self, std::size_t v, std::size_t held, bool stuck_turn) {
  return stuck_turn || self.views[v].per_turn >= long_turn || long_backlog(self, v, held);
}

// Between finding nothing and sleeping on the futex: on 2 cores a futex round trip costs more
// than a short wait for the other thread's next surplus. sched_yield between looks, not a
// pause loop: measured on a shared 2-core machine, a pause spin (looks 0.6 or 2.4 us apart,
// 30-100 us in all) made fanout 1.5-2x and spawn 1.2-2x slower than yielding, since the
// spinning thread holds its core while other programs' threads then preempt the busy one.
process* scheduler::spin(worker& self, std::size_t index) {
  for (int i = 0; i < spin_looks; ++i) {
    std::this_thread::yield();
    if (process* p = find_work(self, index)) {
      return p;
    }
    if (stop_.load(std::memory_order_relaxed)) {
      break;
    }
  }
  return nullptr;
}

bool scheduler::holds_work_elsewhere(std::size_t index) const {
  for (std::size_t v = 0; v < workers_.size(); ++v) {
    const worker& w = *workers_[v];
    // seq_cst, paired with the owner's seq_cst push and store: after our sleepers_ increment
    // either it sees us and wakes us, or we see its work here.
    // The yielded count is stored relaxed, so not part of that pairing: schedule_fair() wakes
    // a deep sleeper again when a later turn ends.
    if (v != index
        && (w.run_next.load(std::memory_order_seq_cst) != nullptr || w.local.size_seq_cst() > 0
            || w.yielded_seen.load(std::memory_order_seq_cst) > 0)) {
      return true;
    }
  }
  return false;
}

void scheduler::park(worker& self, std::size_t index) {
  std::uint32_t seen = epoch_.load(std::memory_order_seq_cst);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  // Look once more after announcing ourselves, so a wake-up between the last look and
  // the wait cannot be lost.
  process* p = stop_.load(std::memory_order_seq_cst) ? nullptr : find_work(self, index);
  if (p == nullptr && !stop_.load(std::memory_order_seq_cst)) {
    awake.fetch_sub(1, std::memory_order_seq_cst);
    // Work queued, due next or yielded on another thread wakes only a deep sleeper
    // (schedule(), schedule_fair()): it is that thread's to run, unless it would wait long.
    // So while any is held, sleep only held_recheck and look again, when steal() may find
    // that it does (or ask for a yielded process); with none held, sleep until woken, so
    // that an idle runtime makes no wake-ups. A deep sleeper flags and counts itself before
    // its last look, paired with schedule()'s seq_cst push and count check: either that
    // thread sees it and wakes it, or it sees the work here.
    bool held = holds_work_elsewhere(index);
    if (!held) {
      self.deep.store(true, std::memory_order_seq_cst);
      deep_sleepers_.fetch_add(1, std::memory_order_seq_cst);
      held = holds_work_elsewhere(index);
      if (held) {
        deep_sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        self.deep.store(false, std::memory_order_seq_cst);
      }
    }
    const timespec recheck{0, std::chrono::nanoseconds(held_recheck).count()};
    futex_wait(epoch_, seen, held ? &recheck : nullptr);
    if (!held) {
      deep_sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      self.deep.store(false, std::memory_order_seq_cst);
    }
    awake.fetch_add(1, std::memory_order_seq_cst);
    awake.notify_all();
  }
  sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  if (p != nullptr) {
    self.local.push(p);
  }
}

void scheduler::loop(std::size_t index) {
  this_scheduler = this;
  worker& self = *workers_[index];
  this_worker = &self;
  awake.fetch_add(1, std::memory_order_seq_cst);
  awake.notify_all();
  while (!stop_.load(std::memory_order_relaxed)) {
    process* p = find_work(self, index);
    if (p == nullptr) {
      p = spin(self, index);
      if (p == nullptr) {
        park(self, index);
        continue;
      }
    }
    // Only this thread writes the count: a plain increment, not a locked read-modify-write.
    self.turns.store(self.turns.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // For stats (stats.cpp), read while this thread owns `p`: its previous turn's reductions
    // (after run_ returns, `p` may already run elsewhere).
    self.reductions += std::exchange(p->turn_reductions, 0);
    self.reductions_seen.store(self.reductions, std::memory_order_relaxed);
    self.running.store(p, std::memory_order_release);
    run_(p);
    self.running.store(nullptr, std::memory_order_release);
  }
  awake.fetch_sub(1, std::memory_order_seq_cst);
  this_scheduler = nullptr;
}

std::vector<process*> scheduler::still_running() {
  std::vector<process*> out;
  bool held = false;
  for (const auto& w : workers_) {
    process* p = w->running.load(std::memory_order_acquire);
    std::uint64_t turns = w->turns.load(std::memory_order_relaxed);
    if (p != nullptr && turns == w->checked_turns) {
      out.push_back(p);
      held = held || w->run_next.load(std::memory_order_relaxed) != nullptr || w->local.size() > 0
             || w->yielded_seen.load(std::memory_order_relaxed) > 0;
    }
    w->checked_turns = turns;
  }
  // Work queued behind a turn that has lasted a whole interval: a thread in a deep sleep is
  // woken by a second process queued behind a turn (queue_displaced(), schedule_fair()), not
  // by a lone one that fills the empty run-next slot, so wake one. Its first look only notes
  // the turn counter; a second look at least held_wait later (a recheck), if the turn has not
  // ended, finds it stuck and takes the work (steal()). Without this, a process that never suspends
  // would keep what it woke or spawned from running while another thread sleeps.
  if (held && sleepers_.load(std::memory_order_seq_cst) > 0) {
    wake_one();
  }
  return out;
}

} // namespace vigil::detail
