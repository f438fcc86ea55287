// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vigil::daemon {

class outbox;

/// What the daemon knows about a running child process.
struct child_record {
  std::string path;
  pid supervisor;
  /// When it started, in steady-clock milliseconds.
  std::int64_t started_ms = 0;
};

/// The daemon's memory of what happened: a ring of recent events (docs/protocol.md, Events),
/// per-path restart counts, the start time of each running child, and a ring of output lines
/// per worker path. Events go out to the connections that follow them, through the outbox, in
/// the order they were recorded.
///
/// Thread-safe: the event hub writes, sessions read and subscribe, the loop unsubscribes.
class event_store {
public:
  /// A reply built from the recent lines (JSON objects), posted to the follower first.
  using reply_builder = std::function<std::string(const std::vector<std::string>& recent)>;

  /// Keeps `capacity` events, and per path the last `log_lines` output lines within
  /// `log_bytes` of their JSON (the newest line always): a child chooses its lines, up to 16
  /// KiB each and six times that as JSON when they are control bytes, and vigild's memory is
  /// outside the child's cgroup limits (1,000 such lines once held 98 MB for one child).
  explicit event_store(outbox& out, std::size_t capacity = 1000, std::size_t log_lines = 1000,
                       std::size_t log_bytes = 1U << 20);

  // -- writers ---------------------------------------------------------------------------

  /// `child` started at `path` under `supervisor`: process_started, or process_restarted
  /// with the count when that path ran before (dynamic children are always "started").
  void started(const std::string& path, pid child, pid supervisor, bool dynamic);
  /// `child` at `path` exited with `reason`: process_exited.
  void exited(const std::string& path, pid child, const term& reason);
  void gave_up(const std::string& path, const term& reason);
  /// A supervisor report (a `decided` event of supervision's sink): what its supervisor decided
  /// after the exit or failed start of the child at `path`, as a JSON object with path,
  /// pid, os_pid, reason, restarts, intensity, period_ms, decision, delay_ms. Published as
  /// the event `supervisor_report` and kept among the path's last exits.
  void decided(const std::string& path, const std::string& report_json);
  /// config_reloaded, with the plan as a JSON array.
  void reloaded(const std::string& plan_json);
  /// vigild is stopping (`exit_code` is the status it will exit with): the last event every
  /// follower, of events or of logs, gets before its stream ends with the connection.
  void daemon_stopping(int exit_code);
  /// One line of a worker's output (OS-process workers; in-process workers print nothing).
  void log_line(const std::string& path, const std::string& stream, const std::string& line);
  /// Forgets the restart count of `path` (a reload stopped it).
  void forget_path(const std::string& path);

  // -- readers ---------------------------------------------------------------------------

  [[nodiscard]] std::optional<child_record> child(pid p) const;
  /// `child(p)->started_ms` without copying the record (status reads it for every row).
  [[nodiscard]] std::optional<std::int64_t> started_ms(pid p) const;
  [[nodiscard]] std::uint32_t restarts(const std::string& path) const;
  /// The last `n` events, oldest first, as JSON objects.
  [[nodiscard]] std::vector<std::string> recent(std::size_t n) const;
  [[nodiscard]] std::vector<std::string> logs(const std::string& path, std::size_t n) const;
  /// The text of the last `n` lines `path` wrote to `stream` ("stderr"), oldest first.
  [[nodiscard]] std::vector<std::string> last_lines(const std::string& path,
                                                    std::string_view stream, std::size_t n) const;
  /// The last supervisor reports of `path`, oldest first, as JSON objects (with `ts`).
  [[nodiscard]] std::vector<std::string> exits(const std::string& path) const;

  // -- followers -------------------------------------------------------------------------

  /// Posts `reply(last n events)` to `conn`, then every later event, with nothing lost or
  /// repeated in between.
  void follow_events(std::uint64_t conn, std::size_t n, const reply_builder& reply);
  /// The same for the output lines of `path`, which then arrive as `log` events.
  void follow_logs(std::uint64_t conn, const std::string& path, std::size_t n,
                   const reply_builder& reply);
  /// Sends `conn` nothing more.
  void unfollow(std::uint64_t conn);

  /// A reader of every event published from now on (the observer's pushed events and
  /// hooks), called in order under the store's lock: it must only hand the text on (queue
  /// it), never block or call the store. Returns its key for `untap`.
  using tap_fn = std::function<void(const std::string& event_json)>;
  std::uint64_t tap(tap_fn fn);
  void untap(std::uint64_t key);

private:
  void publish(std::string event_json);

  outbox& out_;
  std::size_t capacity_;
  std::size_t log_capacity_;
  std::size_t log_bytes_;
  mutable std::mutex mutex_;
  std::deque<std::string> events_;
  std::map<std::string, std::uint32_t, std::less<>> starts_;
  std::unordered_map<std::uint64_t, child_record> children_; ///< by pid, packed

  /// A path's recent output lines (JSON objects) and their total size.
  struct log_ring {
    std::deque<std::string> lines;
    std::size_t bytes = 0;
  };

  std::map<std::string, log_ring, std::less<>> logs_;
  std::map<std::string, std::deque<std::string>, std::less<>> exits_; ///< last reports
  std::set<std::uint64_t> event_followers_;
  std::map<std::uint64_t, std::string> log_followers_;
  std::map<std::uint64_t, tap_fn> taps_;
  std::uint64_t next_tap_ = 1;
};

/// A pid as a 64-bit key: index and serial (node 0 only).
[[nodiscard]] inline std::uint64_t pid_key(pid p) noexcept {
  return (std::uint64_t{p.index} << 32U) | p.serial;
}

} // namespace vigil::daemon
