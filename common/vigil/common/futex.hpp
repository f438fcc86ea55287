// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>

/// Futex waits and wakes on 32-bit words. The runtime sleeps on words private to the daemon;
/// the IPC rings sleep on words in memory shared between processes. The words are
/// `std::atomic<std::uint32_t>`, which is lock-free and address-free, so a shared word may be
/// mapped at different addresses in different processes.
namespace vigil::futex {

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

/// Who may wait on a word. Private futexes are cheaper: the kernel keys them by address
/// alone; shared ones are keyed by the mapped file and offset.
enum class sharing : std::uint8_t { process_private, shared };

/// Sleeps while `*word == expected`, for at most `timeout` (measured on CLOCK_MONOTONIC),
/// or until woken. Returns at once when the word differs. May return spuriously (a signal,
/// a stray wake): callers re-check their condition. A timeout of zero or less does not sleep.
void wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
          std::chrono::nanoseconds timeout, sharing s = sharing::shared) noexcept;

/// `wait` without a timeout: only a wake, a change of the word or a signal ends it.
void wait_untimed(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                  sharing s = sharing::shared) noexcept;

/// Wakes at most `count` waiters sleeping on `word`.
void wake(std::atomic<std::uint32_t>& word, int count = 1, sharing s = sharing::shared) noexcept;

/// Wakes every waiter sleeping on `word`.
inline void wake_all(std::atomic<std::uint32_t>& word, sharing s = sharing::shared) noexcept {
  wake(word, INT_MAX, s);
}

/// One iteration's pause in a spin loop: a CPU hint that spares the sibling hyperthread and
/// the bus, and nothing more.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

} // namespace vigil::futex
