// SPDX-License-Identifier: Apache-2.0
#include "vigil/ipc/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace vigil::ipc::futex {

namespace {

std::uint32_t* address(std::atomic<std::uint32_t>& word) noexcept {
  // The kernel needs the word's address; std::atomic<uint32_t> is exactly a uint32_t.
  return reinterpret_cast<std::uint32_t*>(&word);
}

} // namespace

void wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
          std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() <= 0) {
    return;
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(secs.count());
  ts.tv_nsec = static_cast<long>((timeout - secs).count());
  // FUTEX_WAIT's timeout is relative and runs on CLOCK_MONOTONIC, so a wall-clock step
  // cannot stretch it. EINTR, EAGAIN and ETIMEDOUT all mean "re-check": nothing to report.
  ::syscall(SYS_futex, address(word), FUTEX_WAIT, expected, &ts, nullptr, 0);
}

void wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  ::syscall(SYS_futex, address(word), FUTEX_WAKE, count, nullptr, nullptr, 0);
}

} // namespace vigil::ipc::futex
