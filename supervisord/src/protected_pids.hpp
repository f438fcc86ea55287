// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild's own processes, out of reach from outside (docs/security.md, "Workers"): the event
// hub and its sentinel, the hub's resolver, the root supervisor, the sessions of control
// clients, and the short-lived helpers the daemon spawns (stopper, reloader, spawner). No OS
// worker may send to them; `vigilctl send`, `kill` and `exit` on one get the error
// `protected` (a client's own session excepted: it is the client's `self()`). A worker that
// was given a session's pid may answer it: a session is where a client's replies arrive.

#include "vigil/term/term.hpp"

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace vigil::daemon {

/// The set itself. Thread-safe: the event loop, sessions, the hub and every OS worker's pump
/// thread read it; `shields` takes a shared lock and one hash lookup.
class protected_pids {
public:
  enum class role : std::uint8_t {
    daemon,  ///< vigild's own: out of reach of workers and clients alike
    session, ///< a client's session: reachable by its own client and by workers given it
  };

  struct entry {
    std::string what; ///< "vigild's event hub", for the error message
    role kind = role::daemon;
    /// A session's client's uid: whose messages wait in it.
    std::optional<std::uint32_t> client;
  };

  void add(pid p, std::string what, role kind = role::daemon,
           std::optional<std::uint32_t> client = std::nullopt);
  void remove(pid p);
  [[nodiscard]] std::optional<entry> find(pid p) const;

  /// True for a process no OS worker may send to.
  [[nodiscard]] bool shields(pid p) const;

  /// Why the client whose session is `own` may not send to, kill or exit `p`: the error
  /// message, or nullopt when it may.
  [[nodiscard]] std::optional<std::string> refusal(pid p, pid own) const;

  [[nodiscard]] std::size_t size() const;

private:
  struct pid_hash {
    std::size_t operator()(const pid& p) const noexcept {
      return (std::size_t{p.index} * 0x9e3779b97f4a7c15ULL) ^ p.serial
             ^ (std::size_t{p.node} << 48);
    }
  };

  mutable std::shared_mutex mutex_;
  std::unordered_map<pid, entry, pid_hash> entries_;
};

/// Marks the calling process as protected for as long as it lives: put one at the top of a
/// daemon process's body; the body's frame, however the process ends, removes it.
class protected_scope {
public:
  protected_scope(protected_pids& set, pid self, std::string what,
                  protected_pids::role kind = protected_pids::role::daemon,
                  std::optional<std::uint32_t> client = std::nullopt);
  protected_scope(const protected_scope&) = delete;
  protected_scope& operator=(const protected_scope&) = delete;
  ~protected_scope();

private:
  protected_pids& set_;
  pid self_;
};

} // namespace vigil::daemon
