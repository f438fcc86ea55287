// SPDX-License-Identifier: Apache-2.0
#include "scheduler.hpp"

namespace vigil::detail {
namespace {

thread_local const scheduler* this_scheduler = nullptr;
thread_local process* this_process = nullptr;
thread_local void* this_worker = nullptr;

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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
  w.local.push(p);
  // The waking process runs on; the woken one is queued behind it. Wake a sleeper only
  // for surplus work, so that a ping-pong stays on one warm thread.
  if (w.local.size() > 1 && sleepers_.load(std::memory_order_seq_cst) > 0) {
    wake_one();
  }
}

void scheduler::schedule_fair(process* p) {
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

process* scheduler::find_work(worker& self, std::size_t index) {
  // Now and then look at the shared queue and the oldest local work first, so that
  // neither starves behind a pair of processes that keep waking each other.
  if (++self.tick % 61 == 0) {
    if (process* p = pop_global()) {
      return p;
    }
    if (process* p = self.local.steal()) {
      return p;
    }
  }
  if (process* p = self.local.pop()) {
    return p;
  }
  if (process* p = pop_global()) {
    return p;
  }
  for (std::size_t k = 1; k < workers_.size(); ++k) {
    auto& victim = *workers_[(index + k) % workers_.size()];
    if (process* p = victim.local.steal()) {
      return p;
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
    self.running_since.store(now_ns(), std::memory_order_relaxed);
    self.running.store(p, std::memory_order_release);
    run_(p);
    self.running.store(nullptr, std::memory_order_release);
  }
  awake.fetch_sub(1, std::memory_order_seq_cst);
  this_scheduler = nullptr;
}

std::vector<process*> scheduler::overrunning(std::chrono::steady_clock::duration bound) const {
  std::vector<process*> out;
  std::int64_t limit =
      now_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(bound).count();
  for (const auto& w : workers_) {
    process* p = w->running.load(std::memory_order_acquire);
    if (p != nullptr && w->running_since.load(std::memory_order_relaxed) < limit) {
      out.push_back(p);
    }
  }
  return out;
}

} // namespace vigil::detail
