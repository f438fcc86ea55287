// SPDX-License-Identifier: Apache-2.0
// The allocator of small runtime objects and coroutine frames: per-thread free lists in size
// classes from 64 B to 1 KiB, carved from slabs, and a depot through which freed blocks flow
// back between threads. Off under ASan, so that it sees every block.
#include "pool.hpp"

#include "vigil/runtime/task.hpp"

#include "region_reserve.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#  define VIGIL_POOL_DISABLED 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define VIGIL_POOL_DISABLED 1
#  endif
#endif

namespace vigil::detail {
namespace {

constexpr std::size_t class_bytes = 64;
constexpr std::size_t class_count = 16; // 64 B .. 1 KiB
constexpr std::size_t slab_bytes = 64 * 1024;
constexpr std::size_t page_bytes = 4096;
// A thread keeps up to `kept_blocks` free blocks per class; beyond that its frees gather on
// a spill list that goes to the depot once it is `batch_blocks` long, so that memory freed
// by a consumer thread flows back to the producer instead of piling up. The spill is built
// as blocks are freed: cutting a batch off the kept list walked 256 blocks, which was
// two fifths of a free's cost in one-way messaging.
constexpr std::size_t batch_blocks = 256;
constexpr std::size_t kept_blocks = 2 * batch_blocks;

struct free_block {
  free_block* next;
};

struct batch {
  free_block* head;
  std::size_t count;
};

/// Batches of free blocks moving between threads, per size class.
struct depot {
  std::mutex mutex;
  std::array<std::vector<batch>, class_count> batches;

  static depot& instance() {
    static auto* d = new depot; // NOLINT: immortal; threads may free blocks at exit
    return *d;
  }
};

/// Where a thread's new slabs come from. A burst of spawns otherwise takes a page fault
/// for every 4 KiB it touches (a fault costs more than a spawn), so past its first
/// `lazy_slabs` slabs (from operator new, so that a thread that allocates little, an idle
/// daemon's, holds no more than it uses) a thread carves its slabs from populated regions,
/// prepared ahead by region_reserve when a runtime wants that (`prefault`).
class slab_source {
public:
  char* take() {
    if (taken_ < lazy_slabs) {
      ++taken_;
      return static_cast<char*>(::operator new(slab_bytes));
    }
    if (left_ < slab_bytes) {
      next_ = region_reserve::take(false); // never unmapped: blocks move between threads
      left_ = next_ == nullptr ? 0 : region_reserve::region_bytes;
    }
    if (left_ < slab_bytes) {
      return static_cast<char*>(::operator new(slab_bytes)); // mmap failed: as before
    }
    char* slab = next_;
    next_ += slab_bytes;
    left_ -= slab_bytes;
    return slab;
  }

private:
  static constexpr std::size_t lazy_slabs = 16;

  char* next_ = nullptr;
  std::size_t left_ = 0;
  std::size_t taken_ = 0;
};

struct thread_cache {
  std::array<free_block*, class_count> heads{};
  std::array<std::size_t, class_count> counts{};
  std::array<free_block*, class_count> spills{};
  std::array<std::size_t, class_count> spill_counts{};
  /// Per class, the part of its current slab not carved into blocks yet.
  std::array<char*, class_count> next_block{};
  std::array<std::size_t, class_count> uncarved{};
  slab_source slabs;

  void* allocate(std::size_t cls) {
    if (heads[cls] == nullptr) {
      refill(cls);
    }
    free_block* b = heads[cls];
    heads[cls] = b->next;
    --counts[cls];
    return b;
  }

  void deallocate(void* p, std::size_t cls) noexcept {
    auto* b = static_cast<free_block*>(p);
    if (counts[cls] >= kept_blocks) [[unlikely]] {
      // Onto the spill; inline, as a receiver behind a batch frees most of it this way.
      b->next = spills[cls];
      spills[cls] = b;
      if (++spill_counts[cls] >= batch_blocks) {
        hand_over_spill(cls);
      }
      return;
    }
    b->next = heads[cls];
    heads[cls] = b;
    ++counts[cls];
  }

  // The slow paths are kept out of line: inlined, their locks and vector growth made every
  // allocation and free save and restore six registers.
  [[gnu::noinline]] void refill(std::size_t cls) {
    if (spills[cls] != nullptr) { // blocks this thread freed lately: warm
      heads[cls] = std::exchange(spills[cls], nullptr);
      counts[cls] = std::exchange(spill_counts[cls], 0);
      return;
    }
    {
      auto& d = depot::instance();
      std::lock_guard lock(d.mutex);
      if (!d.batches[cls].empty()) {
        batch got = d.batches[cls].back();
        d.batches[cls].pop_back();
        heads[cls] = got.head;
        counts[cls] = got.count;
        return;
      }
    }
    std::size_t size = (cls + 1) * class_bytes;
    if (uncarved[cls] < size) {
      next_block[cls] = slabs.take();
      uncarved[cls] = slab_bytes;
    }
    // A page's worth of blocks at a time: carving a whole slab wrote every page of it, 64 KiB
    // resident per class and thread for a process that needs a few blocks (an idle daemon).
    carve(cls, std::max<std::size_t>(1, page_bytes / size));
  }

  void carve(std::size_t cls, std::size_t blocks) noexcept {
    std::size_t size = (cls + 1) * class_bytes;
    for (; blocks > 0 && uncarved[cls] >= size; --blocks) {
      auto* b = reinterpret_cast<free_block*>(next_block[cls]);
      b->next = heads[cls];
      heads[cls] = b;
      ++counts[cls];
      next_block[cls] += size;
      uncarved[cls] -= size;
    }
  }

  // A full spill goes to the depot.
  [[gnu::noinline]] void hand_over_spill(std::size_t cls) noexcept {
    batch out{spills[cls], spill_counts[cls]};
    spills[cls] = nullptr;
    spill_counts[cls] = 0;
    auto& d = depot::instance();
    std::lock_guard lock(d.mutex);
    try {
      d.batches[cls].push_back(out);
    } catch (...) {           // keep the blocks locally rather than lose them
      spills[cls] = out.head; // the next spill tries again
      spill_counts[cls] = out.count;
    }
  }

  thread_cache() = default;
  thread_cache(const thread_cache&) = delete;
  thread_cache& operator=(const thread_cache&) = delete;
  thread_cache(thread_cache&&) = delete;
  thread_cache& operator=(thread_cache&&) = delete;

  // A finishing thread hands everything it holds to the depot.
  ~thread_cache() {
    auto& d = depot::instance();
    std::lock_guard lock(d.mutex);
    for (std::size_t cls = 0; cls < class_count; ++cls) {
      carve(cls, slab_bytes); // the rest of the slab too, or it would be lost to the others
      for (auto [head, count] :
           {std::pair{heads[cls], counts[cls]}, std::pair{spills[cls], spill_counts[cls]}}) {
        if (head != nullptr) {
          try {
            d.batches[cls].push_back(batch{head, count});
          } catch (...) { // NOLINT(bugprone-empty-catch): blocks stay unreachable, not corrupt
          }
        }
      }
    }
  }
};

thread_local thread_cache cache;
thread_local std::size_t last_frame = 0;

} // namespace

void* pool_allocate(std::size_t size) {
#ifdef VIGIL_POOL_DISABLED
  return ::operator new(size);
#else
  std::size_t cls = (size + class_bytes - 1) / class_bytes - 1;
  if (size == 0 || cls >= class_count) {
    return ::operator new(size);
  }
  return cache.allocate(cls);
#endif
}

void pool_deallocate(void* block, std::size_t size) noexcept {
#ifdef VIGIL_POOL_DISABLED
  ::operator delete(block, size);
#else
  std::size_t cls = (size + class_bytes - 1) / class_bytes - 1;
  if (size == 0 || cls >= class_count) {
    ::operator delete(block, size);
    return;
  }
  cache.deallocate(block, cls);
#endif
}

void* allocate_frame(std::size_t size) {
  last_frame = size;
  return pool_allocate(size);
}

std::size_t last_frame_size() noexcept {
  return last_frame;
}

void deallocate_frame(void* frame, std::size_t size) noexcept {
  pool_deallocate(frame, size);
}

} // namespace vigil::detail
