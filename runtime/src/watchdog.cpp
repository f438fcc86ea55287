// SPDX-License-Identifier: Apache-2.0
#include "watchdog.hpp"

#include "process.hpp"
#include "scheduler.hpp"

#include <algorithm>
#include <cstdio>

namespace vigil::detail {

watchdog::watchdog(scheduler& s, std::chrono::milliseconds bound, report_fn report)
    : scheduler_(s), bound_(bound), report_(std::move(report)), thread_([this] { loop(); }) {}

watchdog::~watchdog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  scheduler_.awake.fetch_add(1, std::memory_order_seq_cst); // release a wait on `awake`
  scheduler_.awake.notify_all();
  thread_.join();
  scheduler_.awake.fetch_sub(1, std::memory_order_seq_cst);
}

void watchdog::loop() {
  for (;;) {
    scheduler_.awake.wait(0, std::memory_order_seq_cst);
    {
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, bound_ / 2, [this] { return stop_; })) {
        return;
      }
    }
    // A turn seen at two consecutive checks has lasted at least half the bound; at three,
    // at least the bound.
    std::vector<process*> now = scheduler_.still_running();
    std::vector<process*> overran;
    for (process* p : now) {
      if (std::find(seen_before_.begin(), seen_before_.end(), p) != seen_before_.end()) {
        overran.push_back(p);
      }
    }
    seen_before_ = std::move(now);
    for (process* p : overran) {
      if (!p->long_running.exchange(true, std::memory_order_relaxed)) {
        pid id = p->id();
        report_("process #PID<" + std::to_string(id.node) + "." + std::to_string(id.index) + "."
                + std::to_string(id.serial) + "> ("
                + (p->initial_call != nullptr ? p->initial_call : "anonymous")
                + ") has held a scheduler thread for over " + std::to_string(bound_.count())
                + " ms without suspending; it cannot be preempted or killed until it does");
      }
    }
  }
}

} // namespace vigil::detail
