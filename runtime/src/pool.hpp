// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/sanitizers.hpp"

#include <array>
#include <cstddef>

namespace vigil::detail {

/// Small-object memory for the runtime's hot paths (signals, coroutine frames): per-thread
/// free lists in size classes of 64 bytes up to 1 KiB, refilled in slabs so that a spawn or
/// a send reuses warm memory instead of touching fresh pages. A block freed on another
/// thread joins that thread's list. Larger sizes, and every size under AddressSanitizer
/// (so that it still sees use-after-free), go to operator new.
///
/// Inline (below): every message allocates and frees a signal. The slow paths (an empty
/// list, a full spill, a thread's first or post-exit use, large sizes) are in pool.cpp.
inline void* pool_allocate(std::size_t size);
inline void pool_deallocate(void* block, std::size_t size) noexcept;

/// The size of the coroutine frame this thread allocated last: spawn reads it right after
/// creating a body, for `info`'s memory figure.
std::size_t last_frame_size() noexcept;

namespace pool_internal {

inline constexpr bool pool_on = !address_sanitizer_on;

inline constexpr std::size_t class_bytes = 64;
inline constexpr std::size_t class_count = 16; // 64 B .. 1 KiB
// A thread keeps up to `kept_blocks` free blocks per class; beyond that its frees gather on
// a spill list that goes to the depot once it is `batch_blocks` long, so that memory freed
// by a consumer thread flows back to the producer instead of piling up. The spill is built
// as blocks are freed: cutting a batch off the kept list walked 256 blocks, which was
// two fifths of a free's cost in one-way messaging.
inline constexpr std::size_t batch_blocks = 256;
inline constexpr std::size_t kept_blocks = 2 * batch_blocks;

struct free_block {
  free_block* next;
};

/// One thread's free lists (pool.cpp owns them and hands them back at the thread's exit).
/// Trivially destructible and constant-initialised, so that the inline paths reach them
/// with no initialisation check.
struct lists {
  std::array<free_block*, class_count> heads;
  std::array<std::size_t, class_count> counts;
  std::array<free_block*, class_count> spills;
  std::array<std::size_t, class_count> spill_counts;
  /// Registered for hand-back at the thread's exit, and not handed back yet.
  bool usable;
};

extern thread_local constinit lists mine;

constexpr std::size_t class_of(std::size_t size) noexcept {
  return (size + class_bytes - 1) / class_bytes - 1;
}

void* allocate_slow(std::size_t size);
void deallocate_slow(void* block, std::size_t size) noexcept;
void hand_over_spill(std::size_t cls) noexcept;

} // namespace pool_internal

inline void* pool_allocate(std::size_t size) {
  using namespace pool_internal;
  std::size_t cls = class_of(size);
  if (!pool_on || size == 0 || cls >= class_count) {
    return allocate_slow(size);
  }
  lists& l = mine;
  free_block* b = l.heads[cls]; // a list holds blocks only while the thread is usable
  if (b == nullptr) [[unlikely]] {
    return allocate_slow(size);
  }
  l.heads[cls] = b->next;
  --l.counts[cls];
  return b;
}

inline void pool_deallocate(void* block, std::size_t size) noexcept {
  using namespace pool_internal;
  std::size_t cls = class_of(size);
  lists& l = mine;
  if (!pool_on || size == 0 || cls >= class_count || !l.usable) [[unlikely]] {
    deallocate_slow(block, size);
    return;
  }
  auto* b = static_cast<free_block*>(block);
  if (l.counts[cls] >= kept_blocks) [[unlikely]] {
    // Onto the spill, as a receiver behind a batch frees most of it.
    b->next = l.spills[cls];
    l.spills[cls] = b;
    if (++l.spill_counts[cls] >= batch_blocks) {
      hand_over_spill(cls);
    }
    return;
  }
  b->next = l.heads[cls];
  l.heads[cls] = b;
  ++l.counts[cls];
}

} // namespace vigil::detail
