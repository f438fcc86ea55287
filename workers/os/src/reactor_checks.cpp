// SPDX-License-Identifier: Apache-2.0
// The reactor's side of a child's readiness and health checks (checks.hpp): it starts them
// for a child that has any and hands them what they wait for, on the reactor's thread: the
// sd_notify socket's datagrams, a probe attempt's socket or pidfd, the child's output lines,
// the ready frame of a vigil-worker, and the passing of their deadlines.
#include "reactor.hpp"

#include <algorithm>

namespace vigil::os::detail {

void reactor::start_checks(entry& e) {
  if (needs_checks(*e.child)) {
    e.checks = std::make_unique<child_checks>(
        rt_, *e.child, epoll_.get(), e.id << tag_bits | on_notify, e.id << tag_bits | on_probe);
    ++checking_;
  }
}

void reactor::stop_checks(entry& e) {
  if (e.checks) {
    e.checks->stop();
  }
}

void reactor::drop_checks(const entry& e) {
  checking_ -= e.checks ? 1 : 0;
}

void reactor::on_check_event(entry& e, std::uint64_t which) {
  if (!e.checks) {
    return;
  }
  if (which == on_notify) {
    e.checks->on_notify();
  } else {
    e.checks->on_probe();
  }
}

void reactor::forward_ready_frame(entry& e) {
  if (e.child->ready_frame) {
    std::string text = std::move(*e.child->ready_frame);
    e.child->ready_frame.reset();
    if (e.checks) {
      e.checks->on_worker_ready(text);
    }
  }
}

void reactor::forward_lines(entry& e, std::span<const std::string_view> lines) {
  if (e.checks) {
    e.checks->on_lines(lines);
  }
}

std::optional<int> reactor::next_check_ms() const {
  if (checking_ == 0) {
    return std::nullopt;
  }
  std::optional<int> ms;
  auto now = std::chrono::steady_clock::now();
  for (const auto& [id, e] : entries_) {
    if (e.checks) {
      if (auto t = e.checks->next_deadline()) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*t - now).count();
        int in = static_cast<int>(std::clamp<std::int64_t>(left, 0, 24 * 3600 * 1000));
        ms = ms ? std::min(*ms, in) : in;
      }
    }
  }
  return ms;
}

void reactor::check_timers() {
  if (checking_ == 0) {
    return;
  }
  auto now = std::chrono::steady_clock::now();
  for (auto& [id, e] : entries_) {
    if (e.checks) {
      e.checks->on_timer(now);
    }
  }
}

} // namespace vigil::os::detail
