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

namespace vigil::detail {
namespace {

using namespace pool_internal;

constexpr std::size_t slab_bytes = 64 * 1024;
constexpr std::size_t page_bytes = 4096;

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

/// The rest of a thread's pool state: the part of each class's slab not carved yet.
struct carving {
  std::array<char*, class_count> next_block{};
  std::array<std::size_t, class_count> uncarved{};
  slab_source slabs;
};

thread_local constinit carving carve_state{};

void carve(std::size_t cls, std::size_t blocks) noexcept {
  lists& l = mine;
  carving& c = carve_state;
  std::size_t size = (cls + 1) * class_bytes;
  for (; blocks > 0 && c.uncarved[cls] >= size; --blocks) {
    auto* b = reinterpret_cast<free_block*>(c.next_block[cls]);
    b->next = l.heads[cls];
    l.heads[cls] = b;
    ++l.counts[cls];
    c.next_block[cls] += size;
    c.uncarved[cls] -= size;
  }
}

void push_batch(std::size_t cls, batch b) noexcept {
  auto& d = depot::instance();
  std::lock_guard lock(d.mutex);
  try {
    d.batches[cls].push_back(b);
  } catch (...) { // NOLINT(bugprone-empty-catch): blocks stay unreachable, not corrupt
  }
}

thread_local constinit bool exited = false;

/// Hands a finishing thread's blocks to the depot.
struct hand_back_guard {
  hand_back_guard() = default;
  hand_back_guard(const hand_back_guard&) = delete;
  hand_back_guard& operator=(const hand_back_guard&) = delete;
  hand_back_guard(hand_back_guard&&) = delete;
  hand_back_guard& operator=(hand_back_guard&&) = delete;

  ~hand_back_guard() {
    lists& l = mine;
    exited = true;
    l.usable = false; // later frees on this thread go to the depot one by one
    for (std::size_t cls = 0; cls < class_count; ++cls) {
      carve(cls, slab_bytes); // the rest of the slab too, or it would be lost to the others
      for (auto [head, count] : {std::pair{l.heads[cls], l.counts[cls]},
                                 std::pair{l.spills[cls], l.spill_counts[cls]}}) {
        if (head != nullptr) {
          push_batch(cls, batch{head, count});
        }
      }
      l.heads[cls] = l.spills[cls] = nullptr;
      l.counts[cls] = l.spill_counts[cls] = 0;
    }
  }
};

thread_local hand_back_guard guard;

// Registers the hand-back on a thread's first use; false once the thread has handed back.
bool make_usable() noexcept {
  lists& l = mine;
  if (!l.usable && !exited) {
    l.usable = true;
    [[maybe_unused]] hand_back_guard& g = guard; // constructs it, scheduling its destructor
  }
  return l.usable;
}

void refill(std::size_t cls) {
  lists& l = mine;
  if (l.spills[cls] != nullptr) { // blocks this thread freed lately: warm
    l.heads[cls] = std::exchange(l.spills[cls], nullptr);
    l.counts[cls] = std::exchange(l.spill_counts[cls], 0);
    return;
  }
  {
    auto& d = depot::instance();
    std::lock_guard lock(d.mutex);
    if (!d.batches[cls].empty()) {
      batch got = d.batches[cls].back();
      d.batches[cls].pop_back();
      l.heads[cls] = got.head;
      l.counts[cls] = got.count;
      return;
    }
  }
  carving& c = carve_state;
  std::size_t size = (cls + 1) * class_bytes;
  if (c.uncarved[cls] < size) {
    c.next_block[cls] = c.slabs.take();
    c.uncarved[cls] = slab_bytes;
  }
  // A page's worth of blocks at a time: carving a whole slab wrote every page of it, 64 KiB
  // resident per class and thread for a process that needs a few blocks (an idle daemon).
  carve(cls, std::max<std::size_t>(1, page_bytes / size));
}

thread_local std::size_t last_frame = 0;

} // namespace

namespace pool_internal {

thread_local constinit lists mine{};

void* allocate_slow(std::size_t size) {
  std::size_t cls = class_of(size);
  if (!pool_on || size == 0 || cls >= class_count) {
    return ::operator new(size);
  }
  if (!make_usable()) {
    // Past the thread's hand-back (another thread_local's destructor): a list filled now
    // would never be handed back. One block of the class's size instead, which any
    // thread's list may take in when it is freed.
    return ::operator new((cls + 1) * class_bytes);
  }
  lists& l = mine;
  if (l.heads[cls] == nullptr) {
    refill(cls);
  }
  free_block* b = l.heads[cls];
  l.heads[cls] = b->next;
  --l.counts[cls];
  return b;
}

void deallocate_slow(void* block, std::size_t size) noexcept {
  std::size_t cls = class_of(size);
  if (!pool_on || size == 0 || cls >= class_count) {
    ::operator delete(block, size);
    return;
  }
  if (make_usable()) {
    pool_deallocate(block, size); // usable now: the inline path takes it
    return;
  }
  auto* b = static_cast<free_block*>(block);
  b->next = nullptr;
  push_batch(cls, batch{b, 1});
}

void hand_over_spill(std::size_t cls) noexcept {
  lists& l = mine;
  batch out{l.spills[cls], l.spill_counts[cls]};
  l.spills[cls] = nullptr;
  l.spill_counts[cls] = 0;
  auto& d = depot::instance();
  std::lock_guard lock(d.mutex);
  try {
    d.batches[cls].push_back(out);
  } catch (...) {             // keep the blocks locally rather than lose them
    l.spills[cls] = out.head; // the next spill tries again
    l.spill_counts[cls] = out.count;
  }
}

} // namespace pool_internal

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
