// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/free_lists.hpp"
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
/// pool_allocate() that calls nothing: null where pool_allocate() would take its slow path.
/// For a caller that would rather go to a slow path of its own, so that its fast path makes
/// no call and keeps its values in registers that need no saving (a send).
inline void* pool_try_allocate(std::size_t size) noexcept;

/// The size of the coroutine frame this thread allocated last: spawn reads it right after
/// creating a body, for `info`'s memory figure.
std::size_t last_frame_size() noexcept;

namespace pool_internal {

inline constexpr bool pool_on = !address_sanitizer_on;

inline constexpr std::size_t class_bytes = 64;
inline constexpr std::size_t class_count = 16; // 64 B .. 1 KiB
// Kept and spilled blocks per class (vigil/common/free_lists.hpp).
inline constexpr std::size_t batch_blocks = 256;
inline constexpr std::size_t kept_blocks = 2 * batch_blocks;

struct free_block {
  free_block* next;
};

/// One thread's free lists (pool.cpp owns them and hands them back at the thread's exit).
struct lists : thread_free_lists<free_block, class_count, std::size_t, kept_blocks, batch_blocks> {
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

inline void* pool_try_allocate(std::size_t size) noexcept {
  using namespace pool_internal;
  std::size_t cls = class_of(size);
  if (!pool_on || size == 0 || cls >= class_count) {
    return nullptr;
  }
  return mine.pop(cls); // a list holds blocks only while the thread is usable
}

inline void* pool_allocate(std::size_t size) {
  void* b = pool_try_allocate(size);
  if (b == nullptr) [[unlikely]] {
    return pool_internal::allocate_slow(size);
  }
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
  if (l.push(cls, static_cast<free_block*>(block))) [[unlikely]] {
    hand_over_spill(cls);
  }
}

} // namespace vigil::detail
