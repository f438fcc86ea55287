// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>

namespace vigil {

/// One thread's free lists of a block pool, one per size class: the hot half that the pool's
/// inline allocate and free share. A class keeps up to `Kept` blocks; the blocks freed
/// beyond that gather on its spill list, which the pool hands to its shared depot whole once
/// it holds `Batch`, so that memory freed by a consumer thread flows back to the producer.
/// The spill is built as blocks are freed: cutting a batch off the kept list walked it
/// (128–256 dependent loads), and the kept list is never emptied by a spill, so a thread
/// that alternates frees and allocations does not ping-pong with the depot.
///
/// An aggregate of arrays, trivially destructible and constant-initialisable, so that a
/// `constinit thread_local` of it is reached with no initialisation check. `Block` is the
/// pool's free-block type, with a `next` link.
template <class Block, std::size_t Classes, class Count, Count Kept, Count Batch>
struct thread_free_lists {
  std::array<Block*, Classes> heads;
  std::array<Count, Classes> counts;
  std::array<Block*, Classes> spills;
  std::array<Count, Classes> spill_counts;

  /// A kept block of class `cls`, or null when there is none.
  Block* pop(std::size_t cls) noexcept {
    Block* b = heads[cls];
    if (b == nullptr) [[unlikely]] {
      return nullptr;
    }
    heads[cls] = b->next;
    --counts[cls];
    return b;
  }

  /// Keeps `b` in class `cls`, or puts it on the spill once `Kept` are kept. True when the
  /// spill has reached `Batch` blocks: the caller hands it over.
  bool push(std::size_t cls, Block* b) noexcept {
    if (counts[cls] >= Kept) [[unlikely]] {
      // Onto the spill, as a receiver behind a batch frees most of it.
      b->next = spills[cls];
      spills[cls] = b;
      return ++spill_counts[cls] >= Batch;
    }
    b->next = heads[cls];
    heads[cls] = b;
    ++counts[cls];
    return false;
  }
};

} // namespace vigil
