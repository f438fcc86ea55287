// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the in-process latency benches (supervision_bench, readiness_bench) print of their
// samples: mean, max, p50 and p99, a percentile being the sample at rank p * (n - 1).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vigil::bench {

struct latency_summary {
  double mean_ns = 0;
  std::int64_t max_ns = 0;
  std::int64_t p50_ns = 0;
  std::int64_t p99_ns = 0;
};

/// Summarises `samples` (ns), which it reorders. All zeros when there are none.
inline latency_summary summarize(std::vector<std::int64_t>& samples) {
  latency_summary out;
  if (samples.empty()) {
    return out;
  }
  std::int64_t sum = 0;
  for (std::int64_t s : samples) {
    sum += s;
  }
  out.mean_ns = static_cast<double>(sum) / static_cast<double>(samples.size());
  out.max_ns = *std::max_element(samples.begin(), samples.end());
  auto at = [&](double p) {
    auto k = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1));
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k),
                     samples.end());
    return samples[k];
  };
  out.p50_ns = at(0.50);
  out.p99_ns = at(0.99);
  return out;
}

} // namespace vigil::bench
