// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/os/service.hpp"

#include "os_child.hpp"
#include "pump.hpp"
#include "reactor.hpp"

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace vigil::os::detail {

/// What a launch needs besides the spec, worked out before anything is created.
struct launch_parts {
  launch_spec spec;
  std::string program_label;
  int stop_signal = 15;
  bool is_worker = false; ///< vigil-worker (mode "process") rather than a command
};

/// The state behind `service`.
class service_core {
public:
  service_core(runtime& rt, service_options options);
  ~service_core();

  result<pid> start(context& sup, const supervision::child_spec& spec);
  void route(pid to, const term& message);
  [[nodiscard]] std::shared_ptr<os_child> by_port(pid port) const;
  [[nodiscard]] std::shared_ptr<os_child> by_node(std::uint32_t node) const;
  [[nodiscard]] std::optional<std::string> key_of(pid port) const;
  [[nodiscard]] std::optional<pid_t> os_pid_of(pid port) const;
  [[nodiscard]] std::size_t live() const;

  runtime& rt;
  service_options options;
  log_store logs;

private:
  result<launch_parts> prepare(const supervision::child_spec& spec, std::uint32_t node) const;
  std::vector<std::string> environment(const supervision::child_spec& spec,
                                       const std::optional<credentials>& creds,
                                       std::uint32_t node) const;
  result<std::shared_ptr<os_child>> make_child(const supervision::child_spec& spec,
                                               std::uint32_t node);
  std::uint32_t count_start(pid sup, const std::string& id);
  /// Says once per child id which of its cgroup limits could not be set, and why.
  void warn_limits_once(const std::string& id, const std::vector<std::string>& why);
  void on_lines(const os_child& c, std::string_view stream,
                std::span<const std::string_view> lines);
  void on_exited(os_child& c);
  void remember_key(pid port, const std::string& key, pid_t os_pid);
  [[nodiscard]] result<ipc::channel> new_channel() const;
  /// A fresh channel, from the spares if there is one: creating a segment costs ~70 us, and
  /// restarts should not pay it.
  result<ipc::channel> take_spare();
  void refill_spares();
  /// The directory of the notify sockets, made at first use.
  result<std::string> notify_dir();
  /// The child's notify socket and its environment (NOTIFY_SOCKET, WATCHDOG_USEC), when it
  /// asked for sd_notify.
  result<void> setup_notify(const supervision::child_spec& spec, os_child& c, launch_parts& parts);

  /// The most new atoms the frames of all children of one id may create.
  static constexpr std::uint32_t worker_atoms_limit = 4'096;
  std::shared_ptr<atom_budget> atom_budget_for(const std::string& id);

  /// Channels kept ready (their memfds and mappings are part of the service's cost).
  static constexpr std::size_t spare_channels = 2;
  std::mutex spare_mutex_;
  std::vector<ipc::channel> spares_;

  std::vector<std::string> base_env_;
  std::mutex notify_mutex_;
  std::string notify_dir_;
  bool notify_dir_made_ = false; ///< ours to remove
  std::atomic<std::uint32_t> next_node_{1};
  std::atomic<bool> clone3_warned_{false};
  std::set<std::string> limits_warned_; ///< child ids told about refused limits; under mutex_
  mutable std::mutex mutex_;
  std::map<pid, std::shared_ptr<os_child>> ports_;
  std::map<std::uint32_t, std::weak_ptr<os_child>> nodes_;
  std::map<std::pair<pid, std::string>, std::uint32_t> starts_;
  /// Atoms that frames of children of each id may create (docs/security.md, "Atoms").
  std::map<std::string, std::shared_ptr<atom_budget>> atom_budgets_;
  std::map<pid, std::string> port_keys_;
  std::map<pid, pid_t> port_os_pids_; ///< kept with port_keys_, past the child's exit
  std::deque<pid> port_key_order_;
  pump_hooks hooks_;
  std::unique_ptr<reactor> reactor_; ///< last: stopped first
};

} // namespace vigil::os::detail
