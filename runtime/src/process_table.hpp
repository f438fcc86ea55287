// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "process.hpp"
#include "region_reserve.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

namespace vigil::detail {

/// Every process control block, by slot index. Blocks are allocated in chunks that live as
/// long as the table, and freed slots are reused (with a new serial), so looking up a pid
/// never touches freed memory and needs no lock.
///
/// Slot 0 is never used: `pid{}` names no process.
class process_table {
public:
  /// `prefault`: map each chunk populated (runtime_options::prefault).
  process_table(std::uint32_t max_processes, bool prefault);
  process_table(const process_table&) = delete;
  process_table& operator=(const process_table&) = delete;
  process_table(process_table&&) = delete;
  process_table& operator=(process_table&&) = delete;
  ~process_table();

  /// A free control block, or null when `max_processes` are alive.
  process* acquire();
  /// Returns a dead process's slot for reuse.
  void release(process* p) noexcept;

  /// The block of slot `index`, or null if that slot was never constructed (a slot built
  /// ahead in a batch, on the free list, is not null: its inbox is closed). Inline: every send
  /// looks its receiver up here.
  [[nodiscard]] process* slot(std::uint32_t index) const noexcept {
    if (index == 0 || index >= high_water_.load(std::memory_order_acquire)) {
      return nullptr;
    }
    process* chunk = chunks_[index / chunk_size].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk[index % chunk_size];
  }

  /// Slots constructed so far, handed out or built ahead on the free list (the highest
  /// index + 1).
  [[nodiscard]] std::uint32_t high_water() const noexcept {
    return high_water_.load(std::memory_order_acquire);
  }

private:
  /// A chunk is one region_reserve region (1 MiB): 4,519 control blocks.
  static constexpr std::size_t chunk_bytes = region_reserve::region_bytes;
  static constexpr std::uint32_t chunk_size = chunk_bytes / sizeof(process);

  /// Slots a grow under `prefault` constructs at once (see acquire): 14 KiB of blocks.
  static constexpr std::uint32_t fresh_batch = 64;

  static process* make_chunk(bool prefault);
  /// Pops a slot off the free list; null if it is empty.
  process* pop_free() noexcept;
  /// Pushes the chain `first` .. `last` (linked by free_next) onto the free list.
  void push_free(process* first, process* last) noexcept;
  /// Destroys the constructed slots [from, to) and unmaps the chunk.
  static void free_chunk(process* chunk, std::uint32_t from, std::uint32_t to) noexcept;

  std::uint32_t max_;
  bool prefault_;
  std::unique_ptr<std::atomic<process*>[]> chunks_;
  std::atomic<std::uint32_t> high_water_{1};
  std::mutex grow_mutex_;
  /// Treiber stack of free slots: low 32 bits the top slot (0 = empty), high 32 a tag
  /// against ABA.
  std::atomic<std::uint64_t> free_top_{0};
};

} // namespace vigil::detail
