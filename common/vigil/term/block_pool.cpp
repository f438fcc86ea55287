// SPDX-License-Identifier: Apache-2.0
// Term heap blocks from per-thread free lists in 16-byte size classes (32 B .. 256 B), with a
// depot of fixed-size batches through which blocks freed on one thread reach another.
#include "vigil/term/block_pool.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>

namespace vigil::detail::term_pool {
namespace {

using namespace internal;

// Beyond this a depot frees batches instead of keeping them: a burst does not pin its peak.
constexpr std::size_t max_depot_bytes_per_class = std::size_t{8} << 20;

constexpr std::size_t class_bytes(std::size_t cls) noexcept {
  return min_class_bytes + cls * granule;
}

static_assert(class_bytes(class_count - 1) == max_pooled_bytes);
static_assert(class_of(max_pooled_bytes) == class_count - 1 && class_of(33) == 1);

std::atomic<std::size_t> system_blocks{0};

void free_chain(free_block* b) noexcept {
  while (b != nullptr) {
    free_block* next = b->next;
    ::operator delete(b);
    b = next;
  }
}

/// Full batches of free blocks, one stack per size class.
class depot {
public:
  static depot& instance() {
    static auto* d = new depot; // NOLINT: immortal; threads free blocks while the process exits
    return *d;
  }

  void put(std::size_t cls, free_block* batch) noexcept {
    {
      std::lock_guard lock(classes_[cls].mutex);
      auto& c = classes_[cls];
      if (c.batches * batch_blocks * class_bytes(cls) < max_depot_bytes_per_class) {
        batch->next_batch = c.top;
        c.top = batch;
        ++c.batches;
        return;
      }
    }
    free_chain(batch);
  }

  free_block* take(std::size_t cls) noexcept {
    std::lock_guard lock(classes_[cls].mutex);
    auto& c = classes_[cls];
    free_block* batch = c.top;
    if (batch != nullptr) {
      c.top = batch->next_batch;
      --c.batches;
    }
    return batch;
  }

private:
  struct size_class {
    std::mutex mutex;
    free_block* top = nullptr;
    std::size_t batches = 0;
  };

  std::array<size_class, class_count> classes_;
};

/// Empties the thread's lists when it exits; later frees on the thread bypass the pool.
struct cache_guard {
  cache_guard() = default;
  cache_guard(const cache_guard&) = delete;
  cache_guard& operator=(const cache_guard&) = delete;

  ~cache_guard() {
    cache.usable = false;
    cache.dead = true;
    for (std::size_t cls = 0; cls < class_count; ++cls) {
      free_chain(cache.heads[cls]);
      free_chain(cache.spills[cls]);
      cache.heads[cls] = nullptr;
      cache.counts[cls] = 0;
      cache.spills[cls] = nullptr;
      cache.spill_counts[cls] = 0;
    }
  }
};

thread_local cache_guard guard;

// Whether the calling thread may use its lists; registers their cleanup on first use.
bool usable(thread_cache& c) noexcept {
  if (!c.usable && !c.dead) {
    c.usable = true;
    [[maybe_unused]] cache_guard& g = guard; // constructs it, scheduling its destructor
  }
  return c.usable;
}

void* refill_and_allocate(thread_cache& c, std::size_t cls) {
  if (free_block* spill = c.spills[cls]) { // blocks this thread freed lately: warm
    c.heads[cls] = spill->next;
    c.counts[cls] = c.spill_counts[cls] - 1;
    c.spills[cls] = nullptr;
    c.spill_counts[cls] = 0;
    return spill;
  }
  if (free_block* batch = depot::instance().take(cls)) {
    c.heads[cls] = batch->next;
    c.counts[cls] = batch_blocks - 1;
    return batch;
  }
  system_blocks.fetch_add(1, std::memory_order_relaxed);
  return ::operator new(class_bytes(cls));
}

} // namespace

bool enabled() noexcept {
  return pool_on;
}

namespace internal {

thread_local constinit thread_cache cache{};

void* allocate_slow(std::size_t bytes) {
  if (!pool_on || bytes > max_pooled_bytes) {
    return ::operator new(bytes);
  }
  thread_cache& c = cache;
  std::size_t cls = class_of(bytes);
  if (!usable(c)) {
    return ::operator new(class_bytes(cls));
  }
  if (free_block* b = c.heads[cls]) { // the list was filled by a free since the inline check
    c.heads[cls] = b->next;
    --c.counts[cls];
    return b;
  }
  return refill_and_allocate(c, cls);
}

void deallocate_slow(void* block, std::size_t bytes) noexcept {
  if (!pool_on || bytes > max_pooled_bytes || !usable(cache)) {
    ::operator delete(block);
    return;
  }
  deallocate(block, bytes); // registered now: the inline path takes it
}

void hand_over_spill(thread_cache& c, std::size_t cls) noexcept {
  free_block* batch = c.spills[cls];
  c.spills[cls] = nullptr;
  c.spill_counts[cls] = 0;
  depot::instance().put(cls, batch);
}

} // namespace internal

std::size_t blocks_from_system() noexcept {
  return system_blocks.load(std::memory_order_relaxed);
}

std::size_t blocks_cached_by_this_thread() noexcept {
  std::size_t total = 0;
  for (std::size_t cls = 0; cls < class_count; ++cls) {
    total += cache.counts[cls] + cache.spill_counts[cls];
  }
  return total;
}

} // namespace vigil::detail::term_pool
