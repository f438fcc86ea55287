// SPDX-License-Identifier: Apache-2.0
// The runtime's stats (vigil/runtime/stats.hpp), read from a thread that is not a scheduler:
// each scheduler's published counters, and a walk of the process table for long mailboxes.
#include "vigil/runtime/stats.hpp"

#include "vigil/runtime/runtime.hpp"

#include "runtime_impl.hpp"

#include <algorithm>

namespace vigil {
namespace detail {

std::vector<scheduler::queue_stats> scheduler::stats() const {
  std::vector<queue_stats> out;
  out.reserve(workers_.size());
  for (const auto& w : workers_) {
    // The run-next slot counts: a process woken by the running one waits there for a turn.
    const std::size_t next = w->run_next.load(std::memory_order_relaxed) != nullptr ? 1 : 0;
    out.push_back({w->local.size() + w->yielded_seen.load(std::memory_order_relaxed) + next,
                   w->reductions_seen.load(std::memory_order_relaxed)});
  }
  return out;
}

} // namespace detail

std::uint64_t runtime_stats::reductions() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& s : schedulers) {
    sum += s.reductions;
  }
  return sum;
}

runtime_stats read_stats(runtime& rt) {
  auto& impl = rt.impl();
  runtime_stats out;
  for (const auto& q : impl.scheduler_.stats()) {
    out.schedulers.push_back({q.run_queue, q.reductions});
  }
  out.shared_run_queue_length = impl.scheduler_.shared_queue_length();
  out.processes = rt.process_count();
  return out;
}

long_mailboxes_result long_mailboxes(runtime& rt, std::uint32_t threshold, std::size_t limit) {
  auto& impl = rt.impl();
  threshold = std::max<std::uint32_t>(threshold, 1);
  long_mailboxes_result out;
  const std::uint32_t slots = impl.table.high_water();
  for (std::uint32_t i = 1; i < slots; ++i) {
    const detail::process* p = impl.table.slot(i);
    if (p == nullptr) {
      continue;
    }
    // The serial on both sides of the length: if the process died (and its slot found a new
    // one) in between, the length may be either's, so the slot is left out this time.
    const std::uint32_t before = p->serial.load(std::memory_order_acquire);
    const std::uint32_t length = p->mailbox_len_seen.load(std::memory_order_acquire);
    if (length < threshold || p->serial.load(std::memory_order_acquire) != before) {
      continue;
    }
    ++out.over_threshold;
    out.longest.push_back({pid{0, i, before}, length, std::nullopt});
  }
  auto longer = [](const long_mailbox& a, const long_mailbox& b) { return a.length > b.length; };
  if (out.longest.size() > limit) {
    std::nth_element(out.longest.begin(), out.longest.begin() + static_cast<std::ptrdiff_t>(limit),
                     out.longest.end(), longer);
    out.longest.resize(limit);
  }
  std::sort(out.longest.begin(), out.longest.end(), longer);
  for (auto& m : out.longest) {
    m.registered_name = impl.names.name_of(m.process);
  }
  return out;
}

std::optional<std::uint32_t> mailbox_length_seen(runtime& rt, pid p) noexcept {
  const detail::process* proc = rt.impl().find(p);
  if (proc == nullptr) {
    return std::nullopt;
  }
  const std::uint32_t length = proc->mailbox_len_seen.load(std::memory_order_acquire);
  // As in long_mailboxes: a slot that found a new incarnation meanwhile says nothing of `p`.
  if (proc->serial.load(std::memory_order_acquire) != p.serial) {
    return std::nullopt;
  }
  return length;
}

} // namespace vigil
