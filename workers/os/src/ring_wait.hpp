// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/futex.hpp"
#include "vigil/ipc/ring.hpp"

#include <atomic>
#include <chrono>
#include <optional>

namespace vigil::os::detail {

/// Sleeps on the reader's futex word of `h` until `r` has input, `other()` holds, or
/// `timeout` passes (never, for nullopt). It follows the ring's wake protocol (docs/ipc.md):
/// announce, re-check, sleep; so the ring's writer wakes it, and so does a local thread
/// calling `wake_reader` after making `other()` true. May return early.
template <class Other>
void wait_input(ipc::ring_header& h, const ipc::ring_reader& r, Other other,
                std::optional<std::chrono::nanoseconds> timeout) {
  if (r.readable() || other()) {
    return;
  }
  h.reader_sleeping.store(1, std::memory_order_seq_cst);
  if (!r.readable() && !other()) {
    if (timeout) {
      futex::wait(h.reader_sleeping, 1, *timeout);
    } else {
      futex::wait_untimed(h.reader_sleeping, 1);
    }
  }
  h.reader_sleeping.store(0, std::memory_order_relaxed);
}

/// Wakes the reader of `h` if it sleeps (or is about to).
inline void wake_reader(ipc::ring_header& h) {
  if (h.reader_sleeping.exchange(0, std::memory_order_seq_cst) != 0) {
    futex::wake(h.reader_sleeping);
  }
}

} // namespace vigil::os::detail
