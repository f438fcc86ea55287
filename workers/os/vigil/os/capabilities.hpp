// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

/// What an OS worker may send to (docs/security.md, "Workers"). An OS worker is untrusted: a
/// frame it writes reaches only
///
/// - a pid that appeared in a message sent to it (its *capabilities*, `capability_set`),
/// - a process of its own node (those it spawned itself, in a `mode = "process"` worker),
/// - a name the config granted it (`may_send = ["echo"]`), if that name is registered,
///
/// and never one of the daemon's own processes (`send_sinks::is_protected`), whatever it was
/// given. A message may carry only pids the worker holds or of its own node, whatever its
/// target: a port (the worker's own, another worker's, one registered under a name) grants
/// every pid in what it passes on, and a send to a worker's process goes through its port.
/// Likewise only references it was shown or made itself: a reply is known by its reference
/// alone, and the daemon's references can be worked out from one another.
/// A message to a daemon process is never an exit signal ({:EXIT, pid, reason}) nor a `$vigil_`
/// message, which only the daemon's own code sends, nor a {:port_info, from, ref} whose answer
/// would go to a `from` outside the worker. Everything else is dropped and counted
/// (`worker_grants::refused`, `refused` in the `info` of the worker's port).
namespace vigil::os {

/// Keys (pids, references) kept most recently granted or used first, at most `capacity`:
/// past it the one granted or used least recently is forgotten. Not thread-safe on its own.
template <class Key, class Hash>
class lru_keys {
public:
  void grant(const Key& k, std::size_t capacity) {
    if (capacity == 0) {
      return;
    }
    if (auto it = index_.find(k); it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    if (index_.size() >= capacity) {
      index_.erase(order_.back());
      order_.pop_back();
    }
    order_.push_front(k);
    index_.emplace(k, order_.begin());
  }

  [[nodiscard]] bool contains(const Key& k) const { return index_.contains(k); }

  /// Whether `k` is held; a hit counts as a use.
  bool use(const Key& k) {
    auto it = index_.find(k);
    if (it == index_.end()) {
      return false;
    }
    order_.splice(order_.begin(), order_, it->second);
    return true;
  }

  /// Adds `k` as the most recent, without making room (`drop_oldest` does).
  void add(const Key& k) {
    order_.push_front(k);
    index_.emplace(k, order_.begin());
  }

  /// Moves `k` to `to`, as its most recent, without allocating; whether `k` was here.
  bool move_to(lru_keys& to, const Key& k) {
    auto node = index_.extract(k);
    if (node.empty()) {
      return false;
    }
    to.order_.splice(to.order_.begin(), order_, node.mapped());
    to.index_.insert(std::move(node));
    return true;
  }

  /// Forgets the one granted or used least recently, if any.
  void drop_oldest() {
    if (!order_.empty()) {
      index_.erase(order_.back());
      order_.pop_back();
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }

private:
  std::list<Key> order_; ///< most recent first
  std::unordered_map<Key, typename std::list<Key>::iterator, Hash> index_;
};

/// The pids and the references an OS worker was shown, each bounded: past `capacity` pids
/// the one given or used least recently is forgotten (past `capacity` references, see
/// below), and a send showing it is refused until it is given again (as a reply to a request
/// long gone would be). Thread-safe: the port (a scheduler thread) grants, the reactor thread
/// checks (channel_pump); each call that finds a pid or a reference takes one uncontended mutex.
///
/// References are held as pids are because a reply is matched on its reference alone
/// ({ref, value}, as gen_server's), and a reference is a counter and a per-daemon salt:
/// from one it was shown a worker could work out the reference of a call a daemon process
/// has out to someone else and answer it first. A worker may show a reference it was shown
/// (to reply to a call it received) or one of its own node (`sdk::ref_node`: vigil-worker's
/// runtime and `sdk::worker::make_ref` make those); the daemon's references are of node 0.
///
/// A reference is never a target, so what counts as its use is the worker showing it. Past
/// `capacity`, the references the worker has shown already (the replies it gave, least
/// recently shown first) are forgotten before those it has not shown yet (the calls it has
/// still to answer, oldest first): a server that defers one reply while it answers thousands
/// of calls at once, or that tags every event to a subscriber with the subscriber's
/// reference, keeps the reference it still needs.
class capability_set {
public:
  /// How many pids, and how many references, a worker holds by default.
  static constexpr std::size_t default_capacity = 4096;

  explicit capability_set(std::size_t capacity = default_capacity) : capacity_(capacity) {}

  /// Adds `p` (or marks it as just used).
  void grant(pid p);
  /// Adds `r` (or marks it as just used).
  void grant(reference r);

  /// Grants every pid and every reference in `t` that is not of `own_node` (the worker's own
  /// need no grant). Walks `t` once; its depth is bounded by the decoder's or the parser's
  /// limit.
  void grant_all(const term& t, std::uint32_t own_node);

  /// Whether every pid and every reference in `t` not of `own_node` is held now. The pids
  /// count as no use; the references count as shown by the worker (a use). A term that shows
  /// neither takes no lock.
  [[nodiscard]] bool holds_all(const term& t, std::uint32_t own_node);

  /// Whether `p` was given (and is still remembered); a hit counts as a use.
  [[nodiscard]] bool holds(pid p);
  /// Whether `r` was given (and is still remembered); a hit counts as a use.
  [[nodiscard]] bool holds(reference r);

  /// Pids held.
  [[nodiscard]] std::size_t size() const;
  /// References held.
  [[nodiscard]] std::size_t references() const;

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
  struct pid_hash {
    std::size_t operator()(const pid& p) const noexcept {
      std::uint64_t h = (std::uint64_t{p.node} << 32) ^ p.index;
      return static_cast<std::size_t>((h * 0x9e3779b97f4a7c15ULL) ^ p.serial);
    }
  };

  struct reference_hash {
    std::size_t operator()(const reference& r) const noexcept {
      std::uint64_t h = ((std::uint64_t{r.a} << 32) ^ r.b) * 0x9e3779b97f4a7c15ULL;
      return static_cast<std::size_t>(h ^ (std::uint64_t{r.node} << 32) ^ r.c);
    }
  };

  /// The pids and references a term shows, apart from the worker's own.
  struct shown {
    std::vector<pid> pids;
    std::vector<reference> refs;

    [[nodiscard]] bool empty() const noexcept { return pids.empty() && refs.empty(); }
  };

  static void collect(const term& t, std::uint32_t own_node, shown& out);
  /// Adds `r` (or marks it as just granted); the lock is held.
  void grant_locked(const reference& r);
  /// Forgets references past `capacity_`, those already shown first; the lock is held.
  void trim_references_locked();

  std::size_t capacity_;
  mutable std::mutex mutex_;
  lru_keys<pid, pid_hash> pids_;
  lru_keys<reference, reference_hash> unshown_refs_; ///< granted, not shown back yet
  lru_keys<reference, reference_hash> shown_refs_;   ///< shown back by the worker
};

/// What one OS worker may reach: its node, the pids it was given and the names granted to
/// it. Shared by its port (grants) and its pump (checks).
struct worker_grants {
  std::uint32_t node = 0;                ///< the worker's own node (0: it has no processes)
  capability_set given;                  ///< pids and references that reached it
  std::vector<atom> names;               ///< `may_send`
  std::atomic<std::uint64_t> refused{0}; ///< sends dropped by the check
};

/// Where a checked send goes. Any may be empty: no send happens through an empty one.
struct send_sinks {
  /// The pid registered under a name, if any.
  std::function<std::optional<pid>(atom)> whereis;
  /// True for the daemon's own processes: no worker may send to them.
  std::function<bool(pid)> is_protected;
  /// Delivers to a process of the daemon (node 0).
  std::function<void(pid, term)> send_local;
  /// Delivers to a process of an OS worker (node != 0), the worker's own included.
  std::function<void(pid, term)> route;
  /// Whether a daemon process is too far behind to be sent more now (the pump's
  /// backpressure, docs/os-workers.md); empty: never.
  std::function<bool(pid)> behind;
};

/// What became of a send from a worker.
enum class send_outcome : std::uint8_t {
  delivered,    ///< handed to a sink
  unregistered, ///< a granted name nobody has registered: dropped, as in Erlang
  refused,      ///< not granted, or a daemon process: dropped and counted
  bad_target,   ///< `to` is neither a pid nor an atom: dropped and counted
  behind,       ///< allowed, but to a daemon process `send_sinks::behind` says is behind: not
                ///< made, to be tried again
};

/// The check itself: delivers `message` to `to` (a pid or a registered name) if `g` allows
/// it; counts a refusal in `g.refused`. Thread-safe as `g` is.
send_outcome deliver_checked(worker_grants& g, const term& to, const term& message,
                             const send_sinks& sinks);

} // namespace vigil::os
