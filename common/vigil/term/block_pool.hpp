// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>

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

/// A block of at least `bytes` bytes, aligned for a term.
[[nodiscard]] void* allocate(std::size_t bytes);

/// Gives back a block from `allocate(bytes)`; `bytes` must be the same. Any thread may.
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

} // namespace vigil::detail::term_pool
