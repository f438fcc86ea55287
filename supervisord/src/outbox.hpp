// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/unique_fd.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace vigil::daemon {

/// What a process hands the event loop.
enum class post_kind : std::uint8_t {
  line,         ///< append `text` to connection `conn`'s output (an event, a log line)
  reply,        ///< the same for a session's reply, counted in its channel's backlog
  close,        ///< close `conn` once its output is written
  done,         ///< `conn`'s session finished one request
  shutdown,     ///< stop the tree and exit with `code`
  tree_stopped, ///< the root supervisor is gone after a shutdown: finish
  root_down,    ///< the root supervisor died on its own: exit with `code`
  fatal,        ///< one of vigild's own processes died (logged): stop the tree, exit `code`
};

struct post {
  post_kind kind = post_kind::line;
  std::uint64_t conn = 0;
  std::string text;
  int code = 0;
};

/// The way from processes (any scheduler thread) to the event loop: a queue behind a mutex
/// and an eventfd that the loop polls. Posts from one thread keep their order.
class outbox {
public:
  /// Makes the eventfd; `valid()` says whether that worked.
  outbox();

  [[nodiscard]] bool valid() const noexcept { return wake_.valid(); }

  /// The eventfd to poll for readability.
  [[nodiscard]] int fd() const noexcept { return wake_.get(); }

  /// Queues `p` and wakes the loop. Thread-safe.
  void push(post p);

  /// Takes everything queued and clears the eventfd. Only the loop calls it.
  [[nodiscard]] std::vector<post> take();

private:
  unique_fd wake_;
  std::mutex mutex_;
  std::vector<post> queue_;
};

} // namespace vigil::daemon
