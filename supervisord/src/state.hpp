// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/config/config.hpp"
#include "vigil/daemon/auth.hpp"
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/supervisor.hpp"
#include "vigil/workers/kind_registry.hpp"

#include "protected_pids.hpp"
#include "tree_index.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace vigil::os {
class service;
}

namespace vigil::daemon {

class outbox;
class event_store;

/// What the daemon's processes and its event loop share: the running config, the root
/// supervisor, who may connect, and the flags of a stop or reload in progress.
///
/// The references are set once at start and outlive every process. The rest is guarded by
/// a mutex or atomic: any thread may call any member.
class daemon_state {
public:
  daemon_state(runtime& rt, const workers::kind_registry& kinds, outbox& out, event_store& events,
               std::filesystem::path config_path, config::config_tree config, access_policy policy);

  runtime& rt;
  const workers::kind_registry& kinds;
  outbox& out;
  event_store& events;
  const std::filesystem::path config_path;
  /// False under --insecure-paths: root then trusts files others could change. Set before
  /// the tree starts, never changed after.
  bool strict_modes = true;
  /// When the daemon started (for `hello`).
  const std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

  /// The factory every supervisor of the tree starts its workers with.
  supervision::child_factory factory;
  /// Where every supervisor of the tree tells what happened to its children (tree_events.hpp).
  supervision::event_sink sink;
  /// The running tree, as those events describe it.
  tree_index index;
  /// The event hub process.
  pid hub;
  /// vigild's own processes, out of reach of workers and other clients (protected_pids.hpp).
  protected_pids guarded;
  /// What every message of the daemon to its event hub carries, so that no other sender can
  /// forge one (128 random bits, made at start, never sent outside the daemon's processes).
  const term hub_key;
  /// The OS-process workers' service (os_wiring.hpp): ports' info for `info` and `status`.
  /// Set at start, before the tree; cleared once the runtime has shut down.
  os::service* os = nullptr;

  [[nodiscard]] std::shared_ptr<const config::config_tree> config() const;
  void set_config(std::shared_ptr<const config::config_tree> c);

  [[nodiscard]] pid root() const;
  /// Sets the root supervisor, and protects it in place of the one before.
  void set_root(pid p);

  [[nodiscard]] access_policy policy() const;
  void set_policy(access_policy p);

  /// Why the root supervisor gave up, from the last escalation it decided (for the log
  /// line of its exit).
  [[nodiscard]] std::string root_escalation() const;
  void set_root_escalation(std::string why);

  /// Marks `root` as stopped on purpose (shutdown, a reload that replaces the tree), so
  /// that its exit is not a supervisor giving up.
  void retire_root(pid root);
  [[nodiscard]] bool retired(pid root) const;

  /// The new atoms that control-socket clients of `uid` may still create, together across
  /// their sessions (docs/security.md, "Atoms"): root and the daemon's own user get
  /// `trusted_client_atoms`, others `client_atoms`; all draw on `atom_budget::outside()`.
  [[nodiscard]] atom_budget& client_atoms(::uid_t uid);
  static constexpr std::uint32_t client_atoms_limit = 16'384;
  static constexpr std::uint32_t trusted_client_atoms_limit = 131'072;

  /// A process a client spawned detached (`vigilctl spawn`): it outlives the session, and
  /// `tree` lists it.
  struct detached_process {
    pid process;
    std::string kind;
    ::uid_t uid = 0;
  };

  /// The most detached processes one uid may have running at once.
  static constexpr std::size_t max_detached_per_user = 1'000;
  /// Whether `uid` may spawn one more detached process (the ended ones are forgotten here).
  [[nodiscard]] bool may_detach(::uid_t uid);
  void add_detached(detached_process p);
  /// The detached processes still running.
  [[nodiscard]] std::vector<detached_process> detached();

  /// Set once a shutdown begins; commands then answer `shutting_down`.
  std::atomic<bool> stopping{false};
  /// Held by the one reload that runs at a time.
  std::atomic<bool> reloading{false};

private:
  mutable std::mutex mutex_;
  std::shared_ptr<const config::config_tree> config_;
  pid root_;
  access_policy policy_;
  std::set<pid> retired_;
  std::string root_escalation_;
  std::map<::uid_t, std::unique_ptr<atom_budget>> client_atoms_;
  std::vector<detached_process> detached_;
};

} // namespace vigil::daemon
