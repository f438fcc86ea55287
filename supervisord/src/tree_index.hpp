// SPDX-License-Identifier: Apache-2.0
#pragma once

// The daemon's index of the running tree, fed only by the supervisors' events
// (supervision::child_event): path -> {pid, os_pid, state, spec, start time, restart
// history}. `status`, `info`, `tree`, sends and kills by id and a reload's targeting read it
// instead of asking each supervisor with which_children.
//
// Thread-safe: supervisors write from any scheduler thread (their event sink), control
// sessions and the reloader read. One mutex; every call is short (a status of 10,000
// children holds it for the walk over their entries, a few milliseconds).

#include "vigil/supervision/core.hpp"

#include "event_store.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vigil::daemon {

/// One decision about a child, kept in its restart history.
struct restart_record {
  std::int64_t at_ms = 0; ///< steady-clock milliseconds
  supervision::exit_report::decision what = supervision::exit_report::decision::none;
  std::string reason;
};

/// What the index knows about one child of the tree.
struct indexed_child {
  std::string path; ///< "root/jobs/worker"; dynamic children share their template's
  std::string id;
  std::optional<pid> process;   ///< while it runs
  pid supervisor;               ///< the supervisor that started it last (none if never told)
  std::int64_t os_pid = 0;      ///< its OS child, 0 if none (or not running)
  std::int64_t last_os_pid = 0; ///< the OS child it had when it last ran
  supervision::child_type type = supervision::child_type::worker;
  supervision::child_state state = supervision::child_state::stopped;
  /// What it runs, as it was last started (shared with the config when the same).
  std::shared_ptr<const supervision::child_spec> spec;
  std::int64_t started_ms = 0; ///< steady-clock milliseconds
  bool dynamic = false;
  /// failed: why, whether a retry is scheduled; backoff and failed: when the start is due.
  /// starting: "waiting for <what>"; stopped: why, if it was not restarted.
  std::string reason;
  bool retry = false;
  std::int64_t due_ms = 0;
  std::uint32_t decisions = 0; ///< decisions taken about it, in all
  /// A static child's restarts (its starts but the first), as `restarts(path)` counts them:
  /// kept here too, so that a status row needs no second lookup by path.
  std::uint32_t restarts = 0;
  /// The last ones, oldest first (a vector: an empty deque costs 600 bytes, per child).
  std::vector<restart_record> history;
  /// Its `status` row up to the uptime (status_row_head), made by the first status that
  /// lists it and dropped whenever the index changes the entry: a status of 10,000 rows
  /// copies them instead of formatting each again. Empty: not made (or not kept: a row with
  /// live fields). Written by a reader, under the index's lock (tree_index::read).
  mutable std::string status_head;

  /// Its row as which_children gives it, at `now_ms`.
  [[nodiscard]] supervision::child_info info(std::int64_t now_ms) const;
};

/// Heterogeneous lookup by string_view.
struct string_hash {
  using is_transparent = void;

  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

/// A child that was running when its supervisor died without stopping it (the supervisor
/// was killed): it died with its supervisor, and no supervisor is left to say so.
struct orphaned_child {
  std::string path;
  pid process;
};

class tree_index {
public:
  /// Decisions kept per child.
  static constexpr std::size_t history_size = 10;

  /// Records `e`, told at `now_ms`; `os_pid` is the started child's OS pid (0 if none),
  /// `spec` what it runs (empty: a copy of the event's). Returns, for the exit of a
  /// supervisor that did not stop its children first, those that were still running
  /// (deepest last), so that their exits can be told too.
  std::vector<orphaned_child> apply(const supervision::child_event& e, std::int64_t os_pid,
                                    std::int64_t now_ms,
                                    std::shared_ptr<const supervision::child_spec> spec = {});
  /// Forgets everything: the tree it described is gone (a reload replaced it).
  void clear();

  /// The child at `path`: a static child, or the one dynamic child there if it is alone.
  [[nodiscard]] std::optional<indexed_child> at(std::string_view path) const;
  /// The running child whose process is `p`.
  [[nodiscard]] std::optional<indexed_child> of(pid p) const;
  /// The children with id `id`, anywhere in the tree.
  [[nodiscard]] std::vector<indexed_child> with_id(const std::string& id) const;
  /// The pid of the running supervisor at `path` ("root" excluded: the daemon knows it).
  [[nodiscard]] std::optional<pid> supervisor_at(std::string_view path) const;

  /// How many times the static child at `path` restarted (its starts but the first), kept
  /// after it ended; 0 for dynamic children.
  [[nodiscard]] std::uint32_t restarts(std::string_view path) const;
  /// Forgets the restart count of `path` (a reload stopped it).
  void forget(const std::string& path);

  /// The index as one reader sees it, under its lock: for readers that go over many
  /// entries (status, tree) without copying them. Valid only inside `read`.
  class view {
  public:
    /// The child at `path` (as tree_index::at), or nullptr.
    [[nodiscard]] const indexed_child* at(std::string_view path) const;
    /// The children of the supervisor at `sup_path`, in the order they first started: those
    /// of its process `sup` (twins, the dynamic supervisors one template started, share a
    /// path), or with no `sup` those of every supervisor at that path.
    void children(std::string_view sup_path,
                  const std::function<void(const indexed_child&)>& fn) const;
    void children(std::string_view sup_path, std::optional<pid> sup,
                  const std::function<void(const indexed_child&)>& fn) const;

    /// The same for readers that go over many: `fn` inlined, the entries reached through
    /// the pointers the list holds (no lookup per child).
    template <class F>
    void each_child(std::string_view sup_path, std::optional<pid> sup, F&& fn) const {
      auto it = index_.children_.find(sup_path);
      if (it == index_.children_.end()) {
        return;
      }
      const auto each = [&](const sibling_list& list) {
        for (const auto& [h, s] : list) {
          fn(s->child);
        }
      };
      if (sup) {
        if (auto family = it->second.find(pid_key(*sup)); family != it->second.end()) {
          each(family->second);
        }
        return;
      }
      for (const auto& [_, list] : it->second) {
        each(list);
      }
    }

    /// How many children of the supervisor at `sup_path` (of its process `sup`, if given)
    /// the index holds.
    [[nodiscard]] std::size_t count(std::string_view sup_path,
                                    std::optional<pid> sup = std::nullopt) const;
    [[nodiscard]] std::uint32_t restarts(std::string_view path) const;

  private:
    friend class tree_index;

    explicit view(const tree_index& index) : index_(index) {}

    const tree_index& index_;
  };

  /// Calls `fn` with a view of the index, under the lock; `fn` must not call the index.
  void read(const std::function<void(const view&)>& fn) const;

  [[nodiscard]] std::size_t size() const;

private:
  using handle = std::uint64_t;
  struct slot;

  /// Who a child is: its path, for a dynamic child also its key in its supervisor, and the
  /// process of its supervisor (twins' children share their paths).
  static std::string identity(const supervision::child_event& e);
  [[nodiscard]] std::optional<handle> find(const supervision::child_event& e) const;
  handle add(const supervision::child_event& e);
  /// Drops an entry (and those under it); adds to `running` those that still had a process.
  void erase(handle h, std::vector<orphaned_child>* running = nullptr);
  /// Drops the entries under `path` whose supervisor is the process `sup` (pid_key): the
  /// children of a supervisor that is gone.
  void erase_under(std::string_view path, std::uint64_t sup,
                   std::vector<orphaned_child>* running = nullptr);
  /// Drops, when the supervisor at `path` starts as `sup`, the children left there by
  /// supervisors that never ran (their start failed after some of their children had
  /// started): no exit of theirs will come to take them along.
  void drop_stale_families(const std::string& path, std::uint64_t sup);
  void stop(indexed_child& c, std::vector<orphaned_child>* running = nullptr);
  void decided(indexed_child& c, const supervision::exit_report& r, std::int64_t now_ms);
  /// The entry at `path`: by its identity, else the one dynamic child there.
  [[nodiscard]] const slot* at_path(std::string_view path) const;
  /// A waiting or ready event: starting, with what for; or running.
  static void readiness(indexed_child& c, const supervision::child_event& e);

  mutable std::mutex mutex_;
  handle next_ = 1;

  struct slot {
    indexed_child child;
    std::string identity;
    std::uint64_t family = 0; ///< pid_key of the supervisor that holds it
    bool ran = false;         ///< started since it was added (or forgotten)
  };

  std::unordered_map<handle, slot> entries_;
  std::unordered_map<std::string, handle, string_hash, std::equal_to<>> by_identity_;
  std::unordered_map<std::uint64_t, handle> by_pid_; ///< running children, by pid_key
  std::unordered_map<std::string, std::map<handle, bool>> by_id_;
  std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>> starts_;
  /// A supervisor's children in the order they first started (handles only grow), with
  /// their entries (an unordered_map's elements stay where they are). A vector, not a map:
  /// status goes over 10,000 of them, and a tree's nodes cost a cache miss each.
  using sibling_list = std::vector<std::pair<handle, slot*>>;
  /// Children by their supervisor's path, then by its process (pid_key): twins, the dynamic
  /// supervisors one template started, share a path but each holds its own children.
  using families = std::unordered_map<std::uint64_t, sibling_list>;
  std::unordered_map<std::string, families, string_hash, std::equal_to<>> children_;
  /// Entries by path: one, unless dynamic children or twins' children share it.
  std::unordered_map<std::string, std::map<handle, slot*>, string_hash, std::equal_to<>> by_path_;
};

} // namespace vigil::daemon
