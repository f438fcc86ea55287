// SPDX-License-Identifier: Apache-2.0
#include "outbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace vigil::daemon {

outbox::outbox() : wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void outbox::push(post p) {
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    was_empty = queue_.empty();
    queue_.push_back(std::move(p));
  }
  // Only the first post after a take needs to wake the loop.
  if (was_empty) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
  }
}

std::vector<post> outbox::take() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(wake_.get(), &count, sizeof count);
  std::lock_guard lock(mutex_);
  return std::exchange(queue_, {});
}

} // namespace vigil::daemon
