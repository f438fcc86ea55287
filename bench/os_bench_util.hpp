// SPDX-License-Identifier: Apache-2.0
#pragma once

// Helpers of os_restart_bench: the clock, percentiles, JSON lines in the anchors' schema
// (../shared/bench-anchors/README.md), and the FIFO reader of the children's start stamps.

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::bench {

inline std::int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

/// Nearest-rank percentile of sorted values, as the anchors compute it.
inline std::int64_t pct(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

inline long self_kb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) {
      return std::atol(line.c_str() + std::string(key).size());
    }
  }
  return 0;
}

/// CPU time of this process, in ns (all threads).
inline std::int64_t self_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

/// One JSON line for a latency series (restart_long, restart_quick, ...), in the anchors'
/// shape: seconds and per_op_ns are the median.
inline void emit_latency(const char* bench, const char* impl, std::vector<std::int64_t> lat,
                         const std::string& extra = "") {
  std::vector<std::int64_t> s = lat;
  std::sort(s.begin(), s.end());
  if (s.empty()) {
    return;
  }
  double mean = 0;
  for (auto v : s) {
    mean += static_cast<double>(v);
  }
  mean /= static_cast<double>(s.size());
  std::int64_t med = pct(s, 50);
  std::string samples;
  for (auto v : lat) {
    char one[32];
    std::snprintf(one, sizeof one, "%s%.2f", samples.empty() ? "" : ",",
                  static_cast<double>(v) / 1e6);
    samples += one;
  }
  std::printf("{\"bench\":\"%s\",\"impl\":\"%s\",\"n\":%zu,\"seconds\":%.9f,\"per_op_ns\":%lld,"
              "\"rss_kb\":%ld,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,"
              "\"mean_ms\":%.3f,\"samples_ms\":[%s]%s}\n",
              bench, impl, s.size(), static_cast<double>(med) / 1e9, static_cast<long long>(med),
              self_kb("VmRSS:"), static_cast<double>(med) / 1e6,
              static_cast<double>(pct(s, 99)) / 1e6, static_cast<double>(s.front()) / 1e6,
              static_cast<double>(s.back()) / 1e6, mean / 1e6,
              lat.size() <= 1000 ? samples.c_str() : "", extra.c_str());
  std::fflush(stdout);
}

/// The children's "PID NS" lines, one FIFO per service, read with poll.
class stamp_reader {
public:
  /// Makes `path` a FIFO and holds it open (read-write: never EOF, writers never block).
  bool add(const std::string& path) {
    if (::mkfifo(path.c_str(), 0600) != 0) {
      return false;
    }
    int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    fds_.push_back(fd);
    bufs_.emplace_back();
    return fd >= 0;
  }

  ~stamp_reader() {
    for (int fd : fds_) {
      ::close(fd);
    }
  }

  /// The next stamp of service `i` as {pid, ns}, waiting at most `timeout_ms`.
  std::optional<std::pair<long, std::int64_t>> next(std::size_t i, int timeout_ms) {
    std::int64_t until = mono_ns() + static_cast<std::int64_t>(timeout_ms) * 1000000;
    for (;;) {
      auto& buf = bufs_[i];
      auto nl = buf.find('\n');
      if (nl != std::string::npos) {
        long pid = 0;
        long long ns = 0;
        int got = std::sscanf(buf.c_str(), "%ld %lld", &pid, &ns);
        buf.erase(0, nl + 1);
        if (got == 2) {
          return std::make_pair(pid, static_cast<std::int64_t>(ns));
        }
        continue;
      }
      std::int64_t left = until - mono_ns();
      if (left <= 0) {
        return std::nullopt;
      }
      pollfd p{fds_[i], POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left / 1000000 + 1)) > 0) {
        char tmp[256];
        ssize_t n = ::read(fds_[i], tmp, sizeof tmp);
        if (n > 0) {
          buf.append(tmp, static_cast<std::size_t>(n));
        }
      }
    }
  }

private:
  std::vector<int> fds_;
  std::vector<std::string> bufs_;
};

} // namespace vigil::bench
