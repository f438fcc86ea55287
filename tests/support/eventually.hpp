// SPDX-License-Identifier: Apache-2.0
#pragma once

// Waiting in tests for a state that nothing signals (a process count, a flag another thread
// sets, a probe the runtime ran): the condition is re-read until it holds. The pause between
// reads only paces the loop and cannot race, since a state reached between two reads is seen
// at the next; `limit` only catches a hang, never judges speed.

#include <chrono>
#include <functional>
#include <thread>

namespace vigil::test {

/// Re-reads `ready` until it holds (true) or `limit` passes (false).
inline bool eventually(const std::function<bool()>& ready,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    // Paces the re-reads only: a state reached during the pause is seen at the next read.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

} // namespace vigil::test
