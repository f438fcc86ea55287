// SPDX-License-Identifier: Apache-2.0
// Term heap blocks from per-thread free lists in 16-byte size classes (32 B .. 256 B), with a
// depot of fixed-size batches through which blocks freed on one thread reach another.
#include "vigil/term/block_pool.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#  define VIGIL_TERM_POOL_DISABLED 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define VIGIL_TERM_POOL_DISABLED 1
#  endif
#endif

namespace vigil::detail::term_pool {
namespace {

#if defined(VIGIL_TERM_POOL_DISABLED)
constexpr bool pool_on = false;
#else
constexpr bool pool_on = true;
#endif

constexpr std::size_t granule = 16;
constexpr std::size_t min_class_bytes = 32; // room for a free_block
constexpr std::size_t class_count = (max_pooled_bytes - min_class_bytes) / granule + 1;
// A thread keeps up to `kept_blocks` blocks per class on its list; the ones it frees beyond
// that gather on a spill list, which goes to the depot whole once it holds `batch_blocks`.
// Both together stay within max_cached_per_class. The kept list is never emptied by a
// spill, so a thread that alternates frees and allocations does not ping-pong with the
// depot; and the spill is built as it is freed, so no free walks a list to cut a batch
// off (that walk, 128 dependent loads, was a third of a free's cost in one-way messaging).
constexpr std::uint32_t batch_blocks = max_cached_per_class / 2;
constexpr std::uint32_t kept_blocks = max_cached_per_class - batch_blocks;
// Beyond this a depot frees batches instead of keeping them: a burst does not pin its peak.
constexpr std::size_t max_depot_bytes_per_class = std::size_t{8} << 20;

/// A block while it is free. The head of a depot batch also links the next batch.
struct free_block {
  free_block* next;
  free_block* next_batch;
};

static_assert(sizeof(free_block) <= min_class_bytes);

constexpr std::size_t class_of(std::size_t bytes) noexcept {
  return bytes <= min_class_bytes ? 0 : (bytes - min_class_bytes + granule - 1) / granule;
}

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

/// One thread's free lists. Trivially destructible, so that it can still be read (as
/// `dead`) after `cache_guard` below has emptied it at the thread's exit.
struct thread_cache {
  std::array<free_block*, class_count> heads;
  std::array<std::uint32_t, class_count> counts;
  std::array<free_block*, class_count> spills;
  std::array<std::uint32_t, class_count> spill_counts;
  bool registered;
  bool dead;
};

thread_local constinit thread_cache cache{};

/// Empties the thread's lists when it exits; later frees on the thread bypass the pool.
struct cache_guard {
  cache_guard() = default;
  cache_guard(const cache_guard&) = delete;
  cache_guard& operator=(const cache_guard&) = delete;

  ~cache_guard() {
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

[[gnu::noinline]] void register_cleanup(thread_cache& c) noexcept {
  c.registered = true;
  [[maybe_unused]] cache_guard& g = guard; // constructs it, scheduling its destructor
}

// Whether the calling thread may use its lists; registers their cleanup on first use.
bool usable(thread_cache& c) noexcept {
  if (!c.registered) [[unlikely]] {
    register_cleanup(c);
  }
  return !c.dead;
}

// The slow paths are kept out of line, so that allocate and deallocate save no registers.
[[gnu::noinline]] void* refill_and_allocate(thread_cache& c, std::size_t cls) {
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

// A full spill goes to the depot.
[[gnu::noinline]] void hand_over_spill(thread_cache& c, std::size_t cls) noexcept {
  free_block* batch = c.spills[cls];
  c.spills[cls] = nullptr;
  c.spill_counts[cls] = 0;
  depot::instance().put(cls, batch);
}

} // namespace

bool enabled() noexcept {
  return pool_on;
}

void* allocate(std::size_t bytes) {
  if (!pool_on || bytes > max_pooled_bytes) {
    return ::operator new(bytes);
  }
  thread_cache& c = cache;
  std::size_t cls = class_of(bytes);
  if (!usable(c)) [[unlikely]] {
    return ::operator new(class_bytes(cls));
  }
  free_block* b = c.heads[cls];
  if (b == nullptr) [[unlikely]] {
    return refill_and_allocate(c, cls);
  }
  c.heads[cls] = b->next;
  --c.counts[cls];
  return b;
}

void deallocate(void* block, std::size_t bytes) noexcept {
  thread_cache& c = cache;
  if (!pool_on || bytes > max_pooled_bytes || !usable(c)) {
    ::operator delete(block);
    return;
  }
  std::size_t cls = class_of(bytes);
  auto* b = static_cast<free_block*>(block);
  if (c.counts[cls] >= kept_blocks) [[unlikely]] {
    // Onto the spill; inline, as a receiver behind a batch frees most of it this way.
    b->next = c.spills[cls];
    c.spills[cls] = b;
    if (++c.spill_counts[cls] == batch_blocks) {
      hand_over_spill(c, cls);
    }
    return;
  }
  b->next = c.heads[cls];
  c.heads[cls] = b;
  ++c.counts[cls];
}

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
