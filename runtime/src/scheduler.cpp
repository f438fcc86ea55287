// SPDX-License-Identifier: Apache-2.0
// The work-stealing scheduler: a run queue per thread and a shared one for wake-ups from
// outside, the order of picking work (warm ping-pongs, no starvation), stealing, parking and
// waking idle threads, and stopping.
#include "scheduler.hpp"

#include "process.hpp"

#include <utility>

namespace vigil::detail {
namespace {

thread_local const scheduler* this_scheduler = nullptr;
thread_local process* this_process = nullptr;
thread_local void* this_worker = nullptr;

} // namespace

scheduler::scheduler(unsigned threads, run_fn run) : run_(std::move(run)) {
  for (unsigned i = 0; i < (threads == 0 ? 1 : threads); ++i) {
    workers_.push_back(std::make_unique<worker>());
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
  epoch_.notify_all();
  for (auto& w : workers_) {
    if (w->thread.joinable()) {
      w->thread.join();
    }
  }
}

bool scheduler::on_worker() const noexcept {
  return this_scheduler == this;
}

process* scheduler::current() noexcept {
  return this_process;
}

void scheduler::set_current(process* p) noexcept {
  this_process = p;
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
  process* displaced = w.run_next.exchange(p, std::memory_order_acq_rel);
  if (displaced == nullptr) {
    return; // a thief took it meanwhile
  }
  w.local.push(displaced);
  // Wake a sleeper only for surplus work, so that a ping-pong stays on one warm thread.
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    wake_one();
  }
}

process* scheduler::pop_run_next(worker& self) {
  if (self.run_next.load(std::memory_order_relaxed) == nullptr) {
    return nullptr;
  }
  // A chain of processes that keep waking each other runs at most run_next_chain turns
  // in a row; then the one due next goes to the shared queue, as if woken from outside, so
  // that the work queued here runs (and an idle thread may take it), and it is back within
  // 61 picks.
  if (++self.chain > run_next_chain) {
    self.chain = 0;
    if (process* p = self.run_next.exchange(nullptr, std::memory_order_acq_rel)) {
      push_global(p);
    }
    return nullptr;
  }
  return self.run_next.exchange(nullptr, std::memory_order_acq_rel);
}

void scheduler::schedule_fair(process* p) {
  if (on_worker()) {
    auto& w = *static_cast<worker*>(this_worker);
    w.yielded.push_back(p);
    w.yielded_seen.store(w.yielded.size(), std::memory_order_relaxed);
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
  epoch_.notify_one();
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
  // FIFO run queue: a spawner cannot outrun its own children.
  if (process* p = pop_yielded(self)) {
    return p;
  }
  for (std::size_t k = 1; k < workers_.size(); ++k) {
    auto& victim = *workers_[(index + k) % workers_.size()];
    if (process* p = victim.local.steal()) {
      return p;
    }
    // A process due next on a thread that is busy elsewhere (a long turn) is fair game.
    if (victim.run_next.load(std::memory_order_relaxed) != nullptr) {
      if (process* p = victim.run_next.exchange(nullptr, std::memory_order_acq_rel)) {
        return p;
      }
    }
  }
  return nullptr;
}

void scheduler::park(worker& self, std::size_t index) {
  std::uint32_t seen = epoch_.load(std::memory_order_seq_cst);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  // Look once more after announcing ourselves, so a wake-up between the last look and
  // the wait cannot be lost.
  process* p = stop_.load(std::memory_order_seq_cst) ? nullptr : find_work(self, index);
  if (p == nullptr && !stop_.load(std::memory_order_seq_cst)) {
    awake.fetch_sub(1, std::memory_order_seq_cst);
    epoch_.wait(seen, std::memory_order_seq_cst);
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
      // Spin briefly before sleeping: on 2 cores a futex round trip costs more than a
      // short wait for the other thread's next send.
      for (int spin = 0; spin < 64 && p == nullptr; ++spin) {
        std::this_thread::yield();
        p = find_work(self, index);
      }
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
  for (const auto& w : workers_) {
    process* p = w->running.load(std::memory_order_acquire);
    std::uint64_t turns = w->turns.load(std::memory_order_relaxed);
    if (p != nullptr && turns == w->checked_turns) {
      out.push_back(p);
    }
    w->checked_turns = turns;
  }
  return out;
}

} // namespace vigil::detail
