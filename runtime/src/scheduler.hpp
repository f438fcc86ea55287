// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "work_deque.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::detail {

class process;

/// N threads that run processes. Each has a work-stealing deque; a process made runnable
/// by a running process goes to its thread's run-next slot (bumping the one there to the
/// deque, LIFO), those made runnable from outside
/// or that used up their turn go to one shared FIFO queue. An idle thread steals surplus
/// work (never what its owner is about to run, unless the owner is stuck in a long turn),
/// looks again for a while, then sleeps on a futex until surplus work arrives (or, while
/// another thread holds work behind its turn, for held_recheck at a time, to see whether
/// that turn is stuck): with nothing to run, the runtime makes no wake-ups.
class scheduler {
public:
  /// Runs one turn of a process. A plain function pointer, not a std::function: it is
  /// called at every turn, and the std::function's thunk cost a ring hop ~1 ns.
  using run_fn = void (*)(process*);

  scheduler(unsigned threads, run_fn run);
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;
  scheduler(scheduler&&) = delete;
  scheduler& operator=(scheduler&&) = delete;
  ~scheduler();

  /// Starts the threads. Separate from construction so that the runtime is complete first.
  void start();
  /// Stops and joins the threads; queued processes are not run.
  void stop();

  /// Makes `p` runnable: on the calling scheduler thread's deque if it is one of ours.
  void schedule(process* p);
  /// Makes `p` runnable behind everything queued (a yield or a used-up turn). On a scheduler
  /// thread it waits until that thread's other work has run.
  void schedule_fair(process* p);

  /// True on one of this scheduler's threads.
  [[nodiscard]] bool on_worker() const noexcept;

  [[nodiscard]] unsigned size() const noexcept { return static_cast<unsigned>(workers_.size()); }

  /// The process the calling scheduler thread runs, if any. Inline: every turn sets it twice.
  static process* current() noexcept { return current_; }

  static void set_current(process* p) noexcept { current_ = p; }

  /// For the watchdog, called at a fixed interval: the processes that were already running
  /// the same turn at the previous call, so have held their thread for at least one interval.
  /// A turn counter rather than a clock keeps time reads off the scheduling path. If work
  /// waits behind such a turn, it also wakes a sleeping thread to take it.
  std::vector<process*> still_running();

  /// Each thread's run-queue length and reductions, and the shared queue's length, from
  /// the copies the threads publish (stats.cpp). Any thread may call it.
  struct queue_stats {
    std::size_t run_queue = 0;
    std::uint64_t reductions = 0;
  };

  [[nodiscard]] std::vector<queue_stats> stats() const;

  [[nodiscard]] std::size_t shared_queue_length() const noexcept {
    return global_size_.load(std::memory_order_relaxed);
  }

  /// Scheduler threads not asleep. The watchdog sleeps while it is 0, so an idle runtime
  /// makes no wake-ups at all.
  std::atomic<std::uint32_t> awake{0};

private:
  using clock = std::chrono::steady_clock;

  /// What a thief saw of another thread: the turn it was on, and since when (thief's clock).
  struct victim_view {
    std::uint64_t turns = ~std::uint64_t{0};
    clock::time_point since{};
  };

  struct worker {
    work_deque<process> local;
    std::atomic<process*> run_next{nullptr}; ///< woken by the running process; runs next
    std::uint32_t chain = 0;                 ///< owner only: run_next turns in a row
    std::deque<process*> yielded; ///< owner only: processes that yielded or used up a turn
    std::atomic<process*> running{nullptr};
    std::atomic<std::uint64_t> turns{0};
    std::uint64_t checked_turns = 0; ///< watchdog only
    std::thread thread;
    std::uint32_t tick = 0;
    // For stats(): the owner adds up reductions in a plain counter and publishes it, and the
    // yielded queue's length, with relaxed stores (a plain move: no read-modify-write).
    std::uint64_t reductions = 0;
    std::atomic<std::uint64_t> reductions_seen{0};
    std::atomic<std::size_t> yielded_seen{0};
    std::vector<victim_view> views; ///< owner only: each other thread, as last seen stealing
  };

  void loop(std::size_t index);
  /// schedule()'s rare part, out of line so that the common one stays a few instructions.
  void queue_displaced(worker& w, process* displaced);
  process* find_work(worker& self, std::size_t index);
  process* steal(worker& self, std::size_t index);
  process* spin(worker& self, std::size_t index);
  bool stuck(worker& self, std::size_t victim);
  process* pop_global();
  void push_global(process* p);
  static process* pop_yielded(worker& self);
  process* pop_run_next(worker& self);
  void wake_one();
  void park(worker& self, std::size_t index);
  [[nodiscard]] bool holds_work_elsewhere(std::size_t index) const;

  /// Turns a run-next chain may take in a row before its next process queues normally.
  static constexpr std::uint32_t run_next_chain = 128;
  /// How long a thread must stay in one turn before a thief takes what it was about to run
  /// next (Go's runnext grace, longer here): a process that wakes another and then waits
  /// hands over in far less, and moving the woken one to another core costs more than the
  /// wait. At 3 us (Go's figure), oneway's receiver moved to the other core during each
  /// batch of 1000 sends (25 us): 2 threads took 74 ns per message against 54 at 20 us.
  static constexpr std::chrono::microseconds stuck_after{20};
  /// How long an idle thread sleeps before it looks again at work held behind another
  /// thread's turn (park()).
  static constexpr std::chrono::milliseconds held_recheck{1};
  /// How many times an idle thread looks for work (about 1 us apart) before it sleeps.
  static constexpr int spin_looks = 64;

  static inline thread_local process* current_ = nullptr;

  run_fn run_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::mutex global_mutex_;
  std::deque<process*> global_;
  std::atomic<std::size_t> global_size_{0};
  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<bool> stop_{false};
};

} // namespace vigil::detail
