// SPDX-License-Identifier: Apache-2.0
#include "process_table.hpp"

#include "region_reserve.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <memory>
#include <new>

namespace vigil::detail {

// A chunk is mapped, not constructed: a slot's control block is constructed when the slot
// is first handed out, so an unused slot costs no page. With `prefault` a chunk is a
// populated region from region_reserve, prepared ahead by its background thread, so that a
// burst of spawns neither takes a page fault per 4 KiB nor populates the chunk itself; without
// it, a table that holds few processes (a daemon's) keeps only the pages they use.
process* process_table::make_chunk(bool prefault) {
  void* m = prefault ? region_reserve::take(true)
                     : ::mmap(nullptr, chunk_bytes, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == nullptr || m == MAP_FAILED) {
    throw std::bad_alloc();
  }
  return static_cast<process*>(m);
}

void process_table::free_chunk(process* chunk, std::uint32_t from, std::uint32_t to) noexcept {
  std::destroy(chunk + from, chunk + to);
  ::munmap(chunk, chunk_bytes);
}

process_table::process_table(std::uint32_t max_processes, bool prefault)
    : max_(max_processes), prefault_(prefault),
      chunks_(new std::atomic<process*>[max_processes / chunk_size + 1]) {
  for (std::uint32_t i = 0; i <= max_ / chunk_size; ++i) {
    chunks_[i].store(nullptr, std::memory_order_relaxed);
  }
}

process_table::~process_table() {
  std::uint32_t used = high_water_.load(std::memory_order_relaxed);
  for (std::uint32_t i = 0; i <= max_ / chunk_size; ++i) {
    if (process* chunk = chunks_[i].load(std::memory_order_relaxed)) {
      // Constructed: the slots below the high-water mark, except slot 0 (never handed out).
      std::uint32_t first = i * chunk_size;
      std::uint32_t from = i == 0 ? 1 : 0;
      std::uint32_t to = used > first ? std::min(used - first, chunk_size) : 0;
      free_chunk(chunk, from, std::max(from, to));
    }
  }
}

process* process_table::pop_free() noexcept {
  std::uint64_t top = free_top_.load(std::memory_order_acquire);
  while (static_cast<std::uint32_t>(top) != 0) {
    auto index = static_cast<std::uint32_t>(top);
    process* p = slot(index);
    std::uint64_t next =
        (top & ~0xffffffffULL) + (1ULL << 32) + p->free_next.load(std::memory_order_relaxed);
    if (free_top_.compare_exchange_weak(top, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return p;
    }
  }
  return nullptr;
}

process* process_table::acquire() {
  if (process* p = pop_free()) {
    return p;
  }
  std::lock_guard lock(grow_mutex_);
  // Another spawner may have grown the table (with a batch of free slots) while this one
  // waited for the mutex: take one of those rather than grow again, or fail at the limit
  // with most of the table free.
  if (process* p = pop_free()) {
    return p;
  }
  std::uint32_t index = high_water_.load(std::memory_order_relaxed);
  if (index >= max_) {
    return nullptr;
  }
  auto& chunk_ref = chunks_[index / chunk_size];
  if (chunk_ref.load(std::memory_order_relaxed) == nullptr) {
    chunk_ref.store(make_chunk(prefault_), std::memory_order_release);
  }
  process* chunk = chunk_ref.load(std::memory_order_relaxed);
  // With `prefault` (a runtime expecting bursts of spawns) a fresh slot brings the next
  // `fresh_batch - 1` with it, constructed as free slots and pushed onto the free list in one
  // step: the spawns that follow pop them as they pop a dead process's slot, instead of each
  // taking this mutex (two atomic read-modify-writes and a call, ~40 % of a cold `acquire`).
  // Without it a table grows by one slot at a time and touches no page ahead of its use.
  std::uint32_t end = std::min(
      {index + (prefault_ ? fresh_batch : 1U), (index / chunk_size + 1) * chunk_size, max_});
  for (std::uint32_t i = index; i < end; ++i) {
    process* p = std::construct_at(&chunk[i % chunk_size]);
    p->set_identity(pid{0, i, p->serial.load(std::memory_order_relaxed)}, nullptr);
  }
  if (end > index + 1) {
    // Free like a dead process's slot: a closed inbox (a forged pid's send is dropped), the
    // next slot up as the next free one, the last linked to the current top.
    for (std::uint32_t i = index + 1; i < end; ++i) {
      process& p = chunk[i % chunk_size];
      (void)p.signals.close();
      p.free_next.store(i + 1 < end ? i + 1 : 0, std::memory_order_relaxed);
    }
  }
  high_water_.store(end, std::memory_order_release);
  if (end > index + 1) {
    push_free(&chunk[(index + 1) % chunk_size], &chunk[(end - 1) % chunk_size]);
  }
  return &chunk[index % chunk_size];
}

void process_table::push_free(process* first, process* last) noexcept {
  std::uint32_t index = first->id().index;
  std::uint64_t top = free_top_.load(std::memory_order_acquire);
  for (;;) {
    last->free_next.store(static_cast<std::uint32_t>(top), std::memory_order_relaxed);
    std::uint64_t next = (top & ~0xffffffffULL) + (1ULL << 32) + index;
    if (free_top_.compare_exchange_weak(top, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return;
    }
  }
}

void process_table::release(process* p) noexcept {
  push_free(p, p);
}

} // namespace vigil::detail
