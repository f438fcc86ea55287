// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/free_lists.hpp"
#include "vigil/common/sanitizers.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

/// The allocator behind term heap blocks (long strings and non-empty containers).
///
/// Messaging builds a small tuple per message on one scheduler thread and frees it on
/// another, so malloc and free were a large share of a message's cost. Blocks up to
/// `max_pooled_bytes` come from per-thread free lists in 16-byte size classes; a thread whose
/// list grows past a bound hands a batch to a shared depot, from which a thread whose list is
/// empty takes one. In the steady state a message allocates nothing.
///
/// Every pooled block is a plain `::operator new` block of its class size, so a block can
/// always leave the pool with `::operator delete` (a thread's list at its exit, a depot
/// that is full). Under AddressSanitizer the pool is off and every call goes to the system
/// allocator, so that use-after-free of a term is still caught.
namespace vigil::detail::term_pool {

/// Whether blocks are pooled in this build (false under AddressSanitizer).
[[nodiscard]] bool enabled() noexcept;

/// A block of at least `bytes` bytes, aligned for a term. Inline (below), as every message
/// allocates its tuple.
[[nodiscard]] void* allocate(std::size_t bytes);

/// Gives back a block from `allocate(bytes)`; `bytes` must be the same. Any thread may.
/// Inline (below), as every message frees its tuple.
void deallocate(void* block, std::size_t bytes) noexcept;

/// How many blocks the pool has had to take from the system allocator, over all threads:
/// constant once a workload has reached its steady state.
[[nodiscard]] std::size_t blocks_from_system() noexcept;

/// Blocks on the calling thread's free lists, which are bounded.
[[nodiscard]] std::size_t blocks_cached_by_this_thread() noexcept;

/// The bound on one size class of one thread's free list.
inline constexpr std::size_t max_cached_per_class = 256;

/// The largest block that is pooled; larger ones go straight to the system allocator.
inline constexpr std::size_t max_pooled_bytes = 256;

// -- the fast paths, inline: a call each to allocate and free a message's tuple was a tenth
// -- of a message's cost, and the saved registers around the call stalled on some layouts.

namespace internal {

inline constexpr bool pool_on = !address_sanitizer_on;

inline constexpr std::size_t granule = 16;
inline constexpr std::size_t min_class_bytes = 32; // room for a free_block
inline constexpr std::size_t class_count = (max_pooled_bytes - min_class_bytes) / granule + 1;
// Kept and spilled blocks (vigil/common/free_lists.hpp) together stay within
// max_cached_per_class.
inline constexpr std::uint32_t batch_blocks = max_cached_per_class / 2;
inline constexpr std::uint32_t kept_blocks = max_cached_per_class - batch_blocks;

/// A block while it is free. The head of a depot batch also links the next batch.
struct free_block {
  free_block* next;
  free_block* next_batch;
};

static_assert(sizeof(free_block) <= min_class_bytes);

constexpr std::size_t class_of(std::size_t bytes) noexcept {
  return bytes <= min_class_bytes ? 0 : (bytes - min_class_bytes + granule - 1) / granule;
}

/// One thread's free lists (block_pool.cpp owns them).
struct thread_cache
    : thread_free_lists<free_block, class_count, std::uint32_t, kept_blocks, batch_blocks> {
  /// Registered for cleanup at the thread's exit and not cleaned up yet.
  bool usable;
  bool dead;
};

extern thread_local constinit thread_cache cache;

/// The paths the inline ones leave to block_pool.cpp: a large block, an empty list, a
/// thread's first or post-exit use, a full spill.
void* allocate_slow(std::size_t bytes);
void deallocate_slow(void* block, std::size_t bytes) noexcept;
void hand_over_spill(thread_cache& c, std::size_t cls) noexcept;

} // namespace internal

inline void* allocate(std::size_t bytes) {
  using namespace internal;
  if (!pool_on || bytes > max_pooled_bytes) {
    return allocate_slow(bytes);
  }
  // A list only holds blocks while the thread is usable.
  free_block* b = cache.pop(class_of(bytes));
  if (b == nullptr) [[unlikely]] {
    return allocate_slow(bytes);
  }
  return b;
}

/// `deallocate` of a block of `bytes` whose class `cls` the caller knows.
inline void deallocate_class(void* block, std::size_t bytes, std::size_t cls) noexcept {
  using namespace internal;
  thread_cache& c = cache;
  if (!pool_on || !c.usable) [[unlikely]] {
    deallocate_slow(block, bytes);
    return;
  }
  if (c.push(cls, static_cast<free_block*>(block))) [[unlikely]] {
    hand_over_spill(c, cls);
  }
}

inline void deallocate(void* block, std::size_t bytes) noexcept {
  using namespace internal;
  if (!pool_on || bytes > max_pooled_bytes) [[unlikely]] {
    deallocate_slow(block, bytes);
    return;
  }
  deallocate_class(block, bytes, class_of(bytes));
}

} // namespace vigil::detail::term_pool
