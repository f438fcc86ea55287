// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::detail {

/// Threads for work that would hold a scheduler thread (BEAM's dirty schedulers).
class blocking_pool {
public:
  explicit blocking_pool(unsigned threads);
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;
  blocking_pool(blocking_pool&&) = delete;
  blocking_pool& operator=(blocking_pool&&) = delete;
  /// Finishes the queued jobs, then joins.
  ~blocking_pool();

  void post(std::function<void()> job);

private:
  void loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

} // namespace vigil::detail
