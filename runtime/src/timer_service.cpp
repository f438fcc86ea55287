// SPDX-License-Identifier: Apache-2.0
#include "timer_service.hpp"

#include <algorithm>

namespace vigil::detail {

timer_service::timer_service(fire_fn fire) : fire_(std::move(fire)), thread_([this] { loop(); }) {}

timer_service::~timer_service() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

std::uint64_t timer_service::arm(pid target, clock::time_point deadline) {
  std::uint64_t seq = 0;
  bool earliest = false;
  {
    std::lock_guard lock(mutex_);
    seq = next_seq_++;
    earliest = heap_.empty() || deadline < heap_.top().deadline;
    heap_.push(entry{deadline, target, seq});
  }
  if (earliest) {
    cv_.notify_one();
  }
  return seq;
}

void timer_service::cancel(std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (heap_.empty()) {
    return;
  }
  cancelled_.insert(seq);
  if (cancelled_.size() > 1024 && cancelled_.size() * 2 > heap_.size()) {
    compact();
  }
}

void timer_service::compact() {
  std::vector<entry> live;
  live.reserve(heap_.size() - std::min(heap_.size(), cancelled_.size()));
  while (!heap_.empty()) {
    if (cancelled_.erase(heap_.top().seq) == 0) {
      live.push_back(heap_.top());
    }
    heap_.pop();
  }
  cancelled_.clear(); // what is left names timers that had already fired
  heap_ = decltype(heap_)(std::greater<>(), std::move(live));
}

void timer_service::loop() {
  std::unique_lock lock(mutex_);
  std::vector<entry> due;
  while (!stop_) {
    if (heap_.empty()) {
      cv_.wait(lock); // idle: no periodic wake-ups
      continue;
    }
    auto now = clock::now();
    while (!heap_.empty() && heap_.top().deadline <= now) {
      if (cancelled_.erase(heap_.top().seq) == 0) {
        due.push_back(heap_.top());
      }
      heap_.pop();
    }
    if (!due.empty()) {
      lock.unlock();
      for (const auto& e : due) {
        fire_(e.target, e.seq);
      }
      due.clear();
      lock.lock();
      continue;
    }
    // A copy: wait_until reads the deadline again after waking, when arm() on another
    // thread may have reallocated the heap.
    auto next = heap_.top().deadline;
    cv_.wait_until(lock, next);
  }
}

} // namespace vigil::detail
