// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_set>
#include <vector>

namespace vigil::detail {

/// One thread that fires receive timeouts. A process also ignores a timeout whose sequence
/// number is no longer the one it waits for, so a cancel is only a hint that keeps the heap
/// from growing with message rate x timeout: cancelled entries are skipped when due, and the
/// heap is rebuilt without them once they are the majority.
class timer_service {
public:
  using clock = std::chrono::steady_clock;
  using fire_fn = std::function<void(pid target, std::uint64_t seq)>;

  explicit timer_service(fire_fn fire);
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;
  timer_service(timer_service&&) = delete;
  timer_service& operator=(timer_service&&) = delete;
  ~timer_service();

  /// Fires `fire(target, seq)` at `deadline` or soon after; returns `seq`.
  std::uint64_t arm(pid target, clock::time_point deadline);
  /// Forgets timer `seq` if it has not fired.
  void cancel(std::uint64_t seq);

private:
  struct entry {
    clock::time_point deadline;
    pid target;
    std::uint64_t seq;

    bool operator>(const entry& other) const noexcept { return deadline > other.deadline; }
  };

  void loop();
  void compact();

  fire_fn fire_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::priority_queue<entry, std::vector<entry>, std::greater<>> heap_;
  std::unordered_set<std::uint64_t> cancelled_;
  std::uint64_t next_seq_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace vigil::detail
