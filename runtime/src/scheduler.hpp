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
/// deque, LIFO), one that yielded or used up its turn to its thread's own FIFO, and those made
/// runnable from outside to one shared FIFO queue. An idle thread takes work another
/// thread holds only when it would otherwise wait about held_wait: queued behind that much
/// work, or behind a turn that has lasted that long; from the yielded FIFO, which only its
/// owner touches, it asks the owner to hand one over (give_one), also when that thread's
/// turns are long (long_turn). It looks again for a while, then sleeps
/// on a futex (while another thread holds work, for held_recheck at a time, to see whether
/// that work now waits long): with nothing to run, the runtime makes no wake-ups.
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

  /// What a thief saw of another thread (thief's clock): the turn it was on and since when,
  /// and how long its turns took of late (see long_backlog()).
  struct victim_view {
    std::uint64_t turns = ~std::uint64_t{0};
    clock::time_point since{};
    std::uint64_t window_turns = 0;
    clock::time_point window_start{};
    clock::duration per_turn{0}; ///< 0 until a first window has been measured
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
    /// On a line of its own, apart from the counters the owner writes at every turn: every
    /// thief's look reads it, and sharing their line cost skynet and fanout ~1-2 % CPU. The
    /// owner writes it only when a process yields or leaves the yielded queue.
    alignas(64) std::atomic<std::size_t> yielded_seen{0};
    /// Set by an idle thread that found this thread's yielded processes waiting long (steal());
    /// the owner then moves one to the shared queue when its find_work() next reaches its
    /// yielded processes (give_yielded()). The owner reads it with a plain load and clears it
    /// with a plain store: a request lost to a race is made again at the thief's next look.
    std::atomic<bool> give_one{false};
    std::vector<victim_view> views; ///< owner only: each other thread, as last seen stealing
    /// In a deep sleep (no timeout) and not yet woken: set by the owner, cleared by the one
    /// thread that claims its wake-up (wake_deep()).
    std::atomic<bool> deep{false};
  };

  void loop(std::size_t index);
  /// schedule()'s rare part, out of line so that the common one stays a few instructions.
  void queue_displaced(worker& w, process* displaced);
  process* find_work(worker& self, std::size_t index);
  process* steal(worker& self, std::size_t index);
  process* spin(worker& self, std::size_t index);
  bool stuck(worker& self, std::size_t victim);
  bool long_backlog(worker& self, std::size_t victim, std::size_t queued);
  process* pop_global();
  void push_global(process* p);
  static process* pop_yielded(worker& self);
  void give_yielded(worker& self);
  bool yielded_wait_long(worker& self, std::size_t victim, std::size_t held, bool stuck_turn);
  process* pop_run_next(worker& self);
  void wake_one();
  void wake_deep();
  void park(worker& self, std::size_t index);
  [[nodiscard]] bool holds_work_elsewhere(std::size_t index) const;

  /// Turns a run-next chain may take in a row before its next process queues normally.
  static constexpr std::uint32_t run_next_chain = 128;
  /// How long work another thread holds must be about to wait before an idle thread takes
  /// it: behind one turn (what the victim runs next, or its lone queued process; Go's
  /// runnext grace, far longer here), or behind its queue (surplus, as estimated from how
  /// long its turns take). Moving a process to another core costs more than a short wait.
  /// The bound must exceed a whole ordinary turn (a budget of messages: tens to hundreds of
  /// us), or a pair once split across the cores stays split: at 20 us, oneway's receiver,
  /// once taken while its sender's turn of 1000 sends ran, was taken again at every batch
  /// (the sender's turns, slowed by the lines now bouncing, lasted ~90 us), and 2 threads
  /// took 60-94 ns per message against 32-34 with the pair on one core. Trivially short
  /// processes (a spawner's children, skynet's leaves) also run faster where they were
  /// queued, and leave the other core to region_reserve's populating.
  static constexpr std::chrono::microseconds held_wait{1000};
  /// A thread whose turns take this long or longer gives one of its yielded processes to an
  /// idle thread (give_one), whatever its backlog: two busy processes that yield (or use up
  /// their reductions) would otherwise alternate on one thread for good while the other
  /// sleeps. Against a turn this long, moving a process to another core costs little; short
  /// turns are left alone, as oneway's sender and receiver (each using up its budget every
  /// ~25 us on one warm thread) would pay the cross-core cost on every message if split.
  static constexpr std::chrono::microseconds long_turn{200};
  /// The shortest and longest window over which a thief measures another thread's turns;
  /// a longer one (the thief slept) says little about the work queued now, and restarts.
  static constexpr std::chrono::microseconds rate_window_min{50};
  static constexpr std::chrono::milliseconds rate_window_max{10};
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
  /// Sleepers without a timeout (nothing was held elsewhere when they slept): a thread that
  /// queues work must wake one, as no recheck would find it.
  std::atomic<std::uint32_t> deep_sleepers_{0};
  std::atomic<bool> stop_{false};
};

} // namespace vigil::detail
