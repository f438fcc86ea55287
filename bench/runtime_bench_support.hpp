// SPDX-License-Identifier: Apache-2.0
// Reporting and waiting helpers of runtime_bench.cpp: JSON lines in the schema of
// ../shared/bench-anchors, /proc/self/status sampling and bounded waits.
#pragma once

#include "vigil/runtime/runtime.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>

namespace vigil::bench {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// Every wait of a run is bounded by this; a longer phase fails the run.
constexpr auto kTimeout = std::chrono::seconds(420);

/// Scheduler threads of this run, for `emit`.
inline unsigned threads = 0;

inline long status_kb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  std::size_t len = std::strlen(key);
  while (std::getline(f, line)) {
    if (line.compare(0, len, key) == 0) {
      return std::strtol(line.c_str() + len, nullptr, 10);
    }
  }
  return 0;
}

inline long rss_kb() {
  return status_kb("VmRSS:");
}

inline double seconds(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

inline std::string kv(const char* key, double v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, ",\"%s\":%.6f", key, v);
  return buf;
}

inline std::string kv(const char* key, long long v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, ",\"%s\":%lld", key, v);
  return buf;
}

/// One JSON line in the anchors' schema; `extra` holds further ,"key":value pairs.
inline void emit(const std::string& bench, std::int64_t n, double secs, const std::string& extra) {
  std::printf("{\"bench\":\"%s\",\"impl\":\"ours\",\"threads\":%u,\"n\":%" PRId64
              ",\"seconds\":%.6f,\"per_op_ns\":%.3f,\"rss_kb\":%ld%s,\"peak_rss_kb\":%ld"
              ",\"vigil\":\"0.1.0\",\"ts\":%ld}\n",
              bench.c_str(), threads, n, secs, secs * 1e9 / static_cast<double>(n), rss_kb(),
              extra.c_str(), status_kb("VmHWM:"), static_cast<long>(std::time(nullptr)));
  std::fflush(stdout);
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "runtime_bench: %s\n", what.c_str());
  std::fflush(stdout);
  std::_Exit(1);
}

/// Blocks the main thread until the driver process reports `done`.
inline void await_done(mailbox& box, const char* what) {
  if (!box.receive(kTimeout)) {
    fail(std::string("timeout waiting for ") + what);
  }
}

/// Sleeps 1 ms at a time until `done()`, as the anchors poll; false after kTimeout.
template <class Done>
task<bool> poll_until(context& self, Done done) {
  auto deadline = steady::now() + kTimeout;
  while (!done()) {
    if (steady::now() > deadline) {
      co_return false;
    }
    (void)co_await self.sleep(1ms);
  }
  co_return true;
}

} // namespace vigil::bench
