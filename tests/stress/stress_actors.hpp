// SPDX-License-Identifier: Apache-2.0
// The processes of runtime_stress_test.cpp and the ledger in which they record what they
// did, so that the test can work out afterwards what must have happened.
#pragma once

#include "vigil/runtime/runtime.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace vigil::stress {

/// How an actor treats exit signals, fixed by its index.
enum class role : std::uint8_t {
  plain,   ///< never traps exits: dies with any non-normal link or exit signal
  trapper, ///< traps exits from spawn on, never changes it
  toggler, ///< flips trap_exit at random
};

[[nodiscard]] constexpr role role_of(std::size_t index) noexcept {
  switch (index % 5) {
  case 0: return role::trapper;
  case 1: return role::toggler;
  default: return role::plain;
  }
}

/// Every 40th actor is registered under a name, so that sends by name get exercised.
[[nodiscard]] constexpr bool is_named(std::size_t index) noexcept {
  return index % 40 == 2;
}

struct link_record {
  pid a;
  pid b;
};

struct child_record {
  pid parent;
  pid child;
  bool crash = false; ///< the child exits abnormally by itself
};

/// What the processes did, as far as the invariants need it. Any process may append; the
/// test reads it once the chaos is over.
struct ledger_data {
  std::vector<link_record> links;         ///< successful link(a, b) and spawn_link
  std::set<std::pair<pid, pid>> unlinked; ///< pairs either side unlinked (smaller first)
  std::vector<pid> killed;                ///< targets of exit(target, :kill)
  std::vector<pid> exit_signalled;        ///< targets of exit(target, {:shutdown, _})
  std::vector<pid> crashed;               ///< actors that ended themselves abnormally
  std::vector<child_record> children;     ///< spawn_linked children
  std::vector<std::string> violations;    ///< broken invariants seen by the processes
  std::uint64_t messages_received = 0;
  std::uint64_t downs_received = 0;
  std::uint64_t exits_received = 0;
};

/// A ledger_data behind a mutex.
class ledger {
public:
  /// Runs `f(data)` under the lock.
  template <class F>
  auto with(F&& f) {
    std::lock_guard lock(mutex_);
    return std::invoke(std::forward<F>(f), data_);
  }

  void violation(std::string what) {
    with([&](ledger_data& d) { d.violations.push_back(std::move(what)); });
  }

private:
  std::mutex mutex_;
  ledger_data data_;
};

/// What every process of one run shares. `actors` and `names` are filled in before any
/// process receives `:go` and are read-only afterwards.
struct stress_env {
  std::vector<pid> actors;
  std::vector<atom> names;
  pid observer;
  int ops_per_actor = 40;
  int monitors_per_watcher = 400;
  std::uint64_t seed = 1;
  timeout watcher_patience = std::chrono::seconds(60);
  ledger book;
};

/// The message that starts every actor and watcher.
[[nodiscard]] atom go_atom();
/// {:done, pid}: an actor finished its operations.
[[nodiscard]] atom done_atom();
/// {:watcher_done, pid}: a watcher saw every DOWN it expected (or gave up).
[[nodiscard]] atom watcher_done_atom();

/// An actor: waits for :go, performs `ops_per_actor` random operations on random actors
/// (sends, links, unlinks, monitors, demonitors, kills, exit signals, spawn_link, trap_exit,
/// crashes, sleeps), reports {:done, self} and then keeps receiving until it is killed. It
/// checks what it receives: per-sender message order, DOWNs only for its own live
/// monitors, EXIT messages only when it may trap.
task<> actor(context& self, stress_env* env, std::size_t index);

/// A watcher: monitors random actors many times, demonitors some (half with flush), and
/// then waits until every monitor has had exactly one DOWN, recording any surplus or
/// missing one, and reports {:watcher_done, self}.
task<> watcher(context& self, stress_env* env, std::size_t index);

} // namespace vigil::stress
