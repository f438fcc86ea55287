// SPDX-License-Identifier: Apache-2.0
#include "vigil/common/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace vigil::futex {

namespace {

std::uint32_t* address(std::atomic<std::uint32_t>& word) noexcept {
  // The kernel needs the word's address; std::atomic<uint32_t> is exactly a uint32_t.
  return reinterpret_cast<std::uint32_t*>(&word);
}

int op(int base, sharing s) noexcept {
  return s == sharing::process_private ? (base | FUTEX_PRIVATE_FLAG) : base;
}

} // namespace

void wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
          std::chrono::nanoseconds timeout, sharing s) noexcept {
  if (timeout.count() <= 0) {
    return;
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(secs.count());
  ts.tv_nsec = static_cast<long>((timeout - secs).count());
  // FUTEX_WAIT's timeout is relative and runs on CLOCK_MONOTONIC, so a wall-clock step
  // cannot stretch it. EINTR, EAGAIN and ETIMEDOUT all mean "re-check": nothing to report.
  ::syscall(SYS_futex, address(word), op(FUTEX_WAIT, s), expected, &ts, nullptr, 0);
}

void wait_untimed(std::atomic<std::uint32_t>& word, std::uint32_t expected, sharing s) noexcept {
  ::syscall(SYS_futex, address(word), op(FUTEX_WAIT, s), expected, nullptr, nullptr, 0);
}

void wake(std::atomic<std::uint32_t>& word, int count, sharing s) noexcept {
  ::syscall(SYS_futex, address(word), op(FUTEX_WAKE, s), count, nullptr, nullptr, 0);
}

} // namespace vigil::futex
