// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>

namespace vigil::detail {

/// Memory for the process table's chunks and the pool's slabs, in regions of `region_bytes`,
/// populated (every page present) before the spawner needs them.
///
/// Populating costs the kernel ~1.5 µs per 4 KiB page (allocate, zero, map) on our VMs,
/// about half of a cold spawn when the spawner pays it. While some runtime wants memory
/// ahead (`runtime_options::prefault`), a background thread keeps a few regions ready, so
/// that a burst of spawns takes populated memory and the populating runs on another core.
/// It keeps at most half as many ready as the process table has taken chunks (up to 4 MiB),
/// and starts only once there is something to keep: a runtime whose processes fit one chunk
/// holds nothing ahead. Without a wanting runtime nothing is prepared ahead and `take` populates on
/// the caller's thread, as before. Regions are carved from larger areas of address space and
/// populated with madvise (region_reserve.cpp says why).
namespace region_reserve {

inline constexpr std::size_t region_bytes = std::size_t{1} << 20;

/// A runtime with `prefault` on wants regions prepared ahead; `unwant` when it stops. The
/// last `unwant` unmaps the ready regions and the uncarved rest of the current area.
void want();
void unwant() noexcept;

/// A region of `region_bytes`, populated: a ready one if there is one, else mapped now (carved
/// from the current area once the background thread runs, on its own before) and populated. Null if
/// the kernel refused the mapping. The caller owns it (munmap). `chunk`: it is for the process
/// table, and counts toward how much is kept ahead.
[[nodiscard]] char* take(bool chunk) noexcept;

} // namespace region_reserve

} // namespace vigil::detail
