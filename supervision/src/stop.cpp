// SPDX-License-Identifier: Apache-2.0
// How a supervisor stops its children (semantics 23): exit(child, :shutdown), wait for the
// DOWN up to the shutdown timeout, then exit(child, :kill) and wait for the DOWN. A stop
// step waits right here; an async one (stop_step::async) only starts here, and the
// supervisor's mailbox loop sees the DOWN or the timeout.
#include "driver.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

namespace vigil::supervision::detail {
namespace {

using steady = std::chrono::steady_clock;

struct watched {
  stop_target target;
  reference monitor;
  bool down = false;
  term reason;
};

/// The monitor reference of a {:DOWN, ref, :process, pid, reason}, or nullopt.
std::optional<reference> down_ref(const term& m) {
  if (!m.is_tuple() || m.size() != 5 || !m[0].is(atoms::down) || !m[1].is_reference()) {
    return std::nullopt;
  }
  return m[1].as_reference();
}

bool is_down_of(const term& m, const std::vector<watched>& children) {
  auto ref = down_ref(m);
  return ref && std::any_of(children.begin(), children.end(), [&ref](const watched& w) {
           return !w.down && w.monitor == *ref;
         });
}

void mark_down(const term& m, std::vector<watched>& children) {
  reference ref = m[1].as_reference();
  for (auto& w : children) {
    if (w.monitor == ref) {
      w.down = true;
      w.reason = m[4];
    }
  }
}

bool all_down(const std::vector<watched>& children) {
  return std::all_of(children.begin(), children.end(), [](const watched& w) { return w.down; });
}

/// The longest wait before :kill; infinity if any child's shutdown is infinity.
timeout patience(const std::vector<watched>& children) {
  timeout longest{0};
  for (const auto& w : children) {
    switch (w.target.shutdown.how) {
    case shutdown_policy::kind::infinity: return infinity;
    case shutdown_policy::kind::timeout:
      longest = std::max(longest, w.target.shutdown.timeout);
      break;
    case shutdown_policy::kind::brutal_kill: break;
    }
  }
  return longest;
}

/// Waits for the DOWN of every watched child, until `deadline` (none: forever). False if
/// some are still alive at the deadline.
task<bool> await_downs(context& self, std::vector<watched>& children,
                       std::optional<steady::time_point> deadline) {
  while (!all_down(children)) {
    timeout wait = infinity;
    if (deadline) {
      auto left = std::chrono::ceil<timeout>(*deadline - steady::now());
      wait = std::max(left, timeout::zero());
    }
    auto m = co_await self.receive_if(
        [&children](const term& t) { return is_down_of(t, children); }, wait);
    if (!m) {
      co_return false;
    }
    mark_down(m.message, children);
  }
  co_return true;
}

} // namespace

task<> unlink_flush(context& self, pid child) {
  self.unlink(child);
  const auto exit_message = pattern::tuple({atoms::exit, term(child), pattern::any()});
  (void)co_await self.receive(exit_message, timeout::zero());
}

void begin_stop(context& self, const stop_step& stop, std::vector<pending_stop>& pending) {
  for (const auto& t : stop.targets) {
    pending_stop p{t.child, self.monitor(t.child), std::nullopt};
    bool brutal = t.shutdown.how == shutdown_policy::kind::brutal_kill;
    self.exit(t.child, brutal ? atoms::kill : atoms::shutdown);
    if (t.shutdown.how == shutdown_policy::kind::timeout) {
      p.kill_at = steady::now() + t.shutdown.timeout;
    }
    pending.push_back(p);
  }
}

namespace {

auto find_down(const term& m, const std::vector<pending_stop>& pending) {
  auto ref = down_ref(m);
  if (!ref) {
    return pending.end();
  }
  return std::find_if(pending.begin(), pending.end(),
                      [&ref](const pending_stop& p) { return p.monitor == *ref; });
}

} // namespace

bool is_pending_down(const term& m, const std::vector<pending_stop>& pending) {
  return find_down(m, pending) != pending.end();
}

std::optional<pending_stop> take_down(const term& m, std::vector<pending_stop>& pending) {
  auto it = find_down(m, pending);
  if (it == pending.end()) {
    return std::nullopt;
  }
  pending_stop p = *it;
  pending.erase(it);
  return p;
}

void kill_overdue(context& self, std::vector<pending_stop>& pending, steady::time_point now) {
  for (auto& p : pending) {
    if (p.kill_at && *p.kill_at <= now) {
      self.exit(p.child, atoms::kill);
      p.kill_at.reset();
    }
  }
}

std::optional<steady::time_point> next_kill(const std::vector<pending_stop>& pending) {
  std::optional<steady::time_point> first;
  for (const auto& p : pending) {
    if (p.kill_at && (!first || *p.kill_at < *first)) {
      first = p.kill_at;
    }
  }
  return first;
}

task<std::vector<term>> stop_children(context& self, stop_step stop) {
  std::vector<term> reasons;
  reasons.reserve(stop.targets.size());
  // One after the other for static children (in the order given: reverse start order), all
  // at once for dynamic ones.
  std::size_t batch = stop.concurrently ? stop.targets.size() : 1;
  for (std::size_t first = 0; first < stop.targets.size(); first += batch) {
    std::vector<watched> children;
    for (std::size_t i = first; i < std::min(first + batch, stop.targets.size()); ++i) {
      const auto& t = stop.targets[i];
      children.push_back({t, self.monitor(t.child)});
      bool brutal = t.shutdown.how == shutdown_policy::kind::brutal_kill;
      self.exit(t.child, brutal ? atoms::kill : atoms::shutdown);
    }
    timeout wait = patience(children);
    std::optional<steady::time_point> deadline;
    if (wait != infinity) {
      deadline = steady::now() + wait;
    }
    if (!co_await await_downs(self, children, deadline)) {
      for (const auto& w : children) {
        if (!w.down) {
          self.exit(w.target.child, atoms::kill);
        }
      }
      (void)co_await await_downs(self, children, std::nullopt);
    }
    for (const auto& w : children) {
      co_await unlink_flush(self, w.target.child);
      reasons.push_back(w.reason);
    }
  }
  co_return reasons;
}

} // namespace vigil::supervision::detail
