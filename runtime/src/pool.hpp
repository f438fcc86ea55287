// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>

namespace vigil::detail {

/// Small-object memory for the runtime's hot paths (signals, coroutine frames): per-thread
/// free lists in size classes of 64 bytes up to 1 KiB, refilled in slabs so that a spawn or
/// a send reuses warm memory instead of touching fresh pages. A block freed on another
/// thread joins that thread's list. Larger sizes, and every size under AddressSanitizer
/// (so that it still sees use-after-free), go to operator new.
void* pool_allocate(std::size_t size);
void pool_deallocate(void* block, std::size_t size) noexcept;

/// The size of the coroutine frame this thread allocated last: spawn reads it right after
/// creating a body, for `info`'s memory figure.
std::size_t last_frame_size() noexcept;

} // namespace vigil::detail
