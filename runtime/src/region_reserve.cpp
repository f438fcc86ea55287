// SPDX-License-Identifier: Apache-2.0
// Populated memory regions prepared ahead of a burst of spawns by a background thread (see
// region_reserve.hpp for why).
#include "region_reserve.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace vigil::detail::region_reserve {
namespace {

/// Ready regions kept at most: 4 MiB, about 8,000 idle processes' worth. The depth only
/// absorbs short bursts (a long one outruns the thread anyway), and whatever is ready counts
/// in the RSS a burst's processes are measured by: 8 MiB was 8 of the 508 bytes per idle
/// process at a million.
constexpr std::size_t max_ready = 4;

struct state;
[[noreturn]] void keep_ready(state& s);

struct state {
  std::mutex mutex;
  std::condition_variable more;
  std::array<char*, max_ready> ready{};
  std::size_t count = 0;
  unsigned wanted = 0;
  /// Process-table chunks taken since the first runtime wanted some. The reserve holds at
  /// most half as many ahead: it follows the number of processes, not messages. A runtime
  /// whose processes fit one chunk (an OS worker's, or one that spawns a worker per request
  /// and reuses the slots) holds nothing ahead and starts no thread; a message burst that
  /// takes pool regions does not start it (populating beside one slowed `fanout` at 1
  /// thread by ~15 %, in the page allocator and mmap locks its page faults also take), though
  /// once started, a region it takes is refilled like a chunk.
  std::size_t taken = 0;
  bool started = false;
  /// The part of the current virtual area not carved yet (see carve).
  char* area_next = nullptr;
  std::size_t area_left = 0;

  [[nodiscard]] std::size_t target() const noexcept {
    return wanted == 0 ? 0 : std::min(max_ready, taken / 2);
  }

  /// Starts the background thread the first time there is something to prepare.
  void start_if_needed() noexcept {
    if (started || target() == 0) {
      return;
    }
    try {
      std::thread([this] { keep_ready(*this); }).detach();
      started = true;
    } catch (const std::system_error&) { // NOLINT(bugprone-empty-catch): takers populate
    }
  }

  static state& instance() {
    static auto* s = new state; // NOLINT: immortal; the background thread outlives main
    return *s;
  }
};

/// Regions are populated with MADV_POPULATE_WRITE, a step at a time. A populate holds the
/// address space's lock for reading, an mmap for writing: while the spawner and this thread
/// each mapped their regions with mmap(MAP_POPULATE), each one's next mmap waited for the
/// other's populate of a whole megabyte (~0.3-0.5 ms), and so did any other mmap of the
/// process. Now an mmap waits for one step at most.
///
/// Once the background thread runs (a burst of spawns), regions are carved from areas of
/// `area_regions` mapped at once: one mmap per 64 regions instead of one each made cold
/// `spawn` ~15 % faster. Before that, each region is mapped on its own: beside such an
/// area glibc's arena growth (an mprotect) took twice the CPU in `fanout`, whose few
/// regions gain nothing from it.
constexpr std::size_t area_regions = 64;
constexpr std::size_t populate_step = std::size_t{128} << 10;

/// The next unpopulated region of the current area; null if the kernel refused a new area.
/// `lock` holds the mutex; it is released around the mmap of a new area, so that the
/// background thread, at SCHED_IDLE, never holds the mutex through a system call that may
/// wait (a spawner in `take` would then wait for it to get a core again).
char* carve(state& s, std::unique_lock<std::mutex>& lock) noexcept {
  while (s.area_left == 0) {
    lock.unlock();
    void* m = ::mmap(nullptr, area_regions * region_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    lock.lock();
    if (m == MAP_FAILED) {
      return nullptr;
    }
    if (s.area_left != 0) { // another taker mapped one meanwhile: use that, drop this one
      lock.unlock();
      ::munmap(m, area_regions * region_bytes);
      lock.lock();
      continue;
    }
    s.area_next = static_cast<char*>(m);
    s.area_left = area_regions;
  }
  --s.area_left;
  return std::exchange(s.area_next, s.area_next + region_bytes);
}

/// An unpopulated region mapped on its own; null if the kernel refused it.
char* map_region() noexcept {
  void* m =
      ::mmap(nullptr, region_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return m == MAP_FAILED ? nullptr : static_cast<char*>(m);
}

/// Makes every page of `region` present, a step at a time. A kernel without
/// MADV_POPULATE_WRITE (before 5.14) gets the pages by a write to each; a populate that runs
/// out of memory leaves the rest to fault in on use, as MAP_POPULATE did.
void populate(char* region) noexcept {
  for (std::size_t at = 0; at < region_bytes; at += populate_step) {
    if (::madvise(region + at, populate_step, MADV_POPULATE_WRITE) != 0) {
      if (errno != EINVAL) {
        return;
      }
      for (std::size_t page = at; page < region_bytes; page += 4096) {
        *static_cast<volatile char*>(region + page) = 0;
      }
      return;
    }
  }
}

/// The background thread: populates a region whenever fewer than `target` are ready. It
/// populates outside the lock, so a spawner that finds the reserve empty populates its own
/// region at the same time instead of waiting for this one.
[[noreturn]] void keep_ready(state& s) {
  // SCHED_IDLE: populate only on a core nothing else wants. On a busy machine the spawner
  // populates its own regions as it would without the reserve, instead of sharing its core
  // with this thread (and having its caches flushed by a megabyte of zeroing).
  sched_param idle{};
  (void)::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle);
  std::unique_lock lock(s.mutex);
  for (;;) {
    s.more.wait(lock, [&s] { return s.count < s.target(); });
    char* region = carve(s, lock);
    lock.unlock();
    if (region != nullptr) {
      populate(region);
    }
    lock.lock();
    if (region == nullptr) {
      // Out of memory: try again later rather than spin; takers map their own meanwhile.
      s.more.wait_for(lock, std::chrono::milliseconds(100));
    } else if (s.count < s.target()) {
      s.ready[s.count++] = region;
    } else { // the last runtime stopped wanting while this one was populated
      lock.unlock();
      ::munmap(region, region_bytes);
      lock.lock();
    }
  }
}

} // namespace

void want() {
  auto& s = state::instance();
  std::lock_guard lock(s.mutex);
  ++s.wanted;
}

void unwant() noexcept {
  auto& s = state::instance();
  std::array<char*, max_ready> drop{};
  std::size_t n = 0;
  char* area_rest = nullptr;
  std::size_t area_rest_regions = 0;
  {
    std::lock_guard lock(s.mutex);
    if (--s.wanted != 0) {
      return;
    }
    s.taken = 0;
    n = std::exchange(s.count, 0);
    std::copy_n(s.ready.begin(), n, drop.begin());
    // The uncarved rest of the current area too: it is only address space under the default
    // overcommit, but with vm.overcommit_memory=2 the whole area counts against the limit.
    area_rest = std::exchange(s.area_next, nullptr);
    area_rest_regions = std::exchange(s.area_left, 0);
  }
  for (std::size_t i = 0; i < n; ++i) {
    ::munmap(drop[i], region_bytes);
  }
  if (area_rest_regions != 0) {
    ::munmap(area_rest, area_rest_regions * region_bytes);
  }
}

char* take(bool chunk) noexcept {
  auto& s = state::instance();
  std::unique_lock lock(s.mutex);
  if (chunk) {
    ++s.taken;
  }
  if (s.count > 0) {
    s.more.notify_one();
    return s.ready[--s.count];
  }
  s.start_if_needed();
  s.more.notify_one(); // start on the next one while this caller populates its own
  char* region = nullptr;
  if (s.started) {
    region = carve(s, lock);
    lock.unlock();
  } else {
    lock.unlock();
    region = map_region();
  }
  if (region != nullptr) {
    populate(region); // outside the lock: the background thread populates at the same time
  }
  return region;
}

} // namespace vigil::detail::region_reserve
