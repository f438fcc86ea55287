// SPDX-License-Identifier: Apache-2.0
#pragma once

// The spec declared once: one table per spec struct lists its fields in order, each with its
// name, the member it reads (hence its type; its default is the struct's), what a reload does
// when it changes, when `describe` shows it, and its documentation. The term codec
// (spec_term.cpp), equality, reload plans (config/src/diff.cpp) and `vigild --check-config`'s
// description (config/src/describe.cpp) walk these tables instead of naming fields, so a
// field cannot be encoded but not decoded, or compared but not diffed.
//
// A field is added to the struct and to its table; spec_fields.cpp fails to compile until
// both agree on the number of members.

#include "vigil/supervision/spec.hpp"
#include "vigil/supervision/spec_names.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace vigil::supervision {

/// What a reload does when the field of a running child or supervisor changes.
enum class on_reload : std::uint8_t {
  restart, ///< it is what the process is: the child is stopped and started again
  update,  ///< it is how the process is supervised: the spec changes in place
  ignored, ///< identity (`id`, `name`: matched on) or provenance (`where`)
  own,     ///< the reload diff treats it itself (a nested supervisor, children)
};

/// When `describe` shows the field.
enum class shown : std::uint8_t {
  always,   ///< `name=value`
  if_set,   ///< unless empty, zero, false or unset
  if_unset, ///< `option=false` when unset (an optional the config turns off with a bool)
  inline_,  ///< a nested struct's own fields, in line
  never,    ///< printed by the caller (id, type, children) or not at all
};

/// One field of struct Owner.
template <class Owner, class T>
class field {
public:
  using owner_type = Owner;
  using value_type = T;

  constexpr field(std::string_view name_, T Owner::*member_, on_reload reload_, shown show_,
                  std::string_view doc_)
      : name(name_), member(member_), reload(reload_), show(show_), doc(doc_) {}

  /// Shown by `describe` only when `pred` holds for the owner (max_children: only under
  /// simple_one_for_one).
  [[nodiscard]] constexpr field when(bool (*pred)(const Owner&)) const {
    field out = *this;
    out.applies = pred;
    return out;
  }

  /// Named `option` in vigil.toml, reload plans and `describe` (default_backoff is
  /// `crash_backoff`).
  [[nodiscard]] constexpr field as_option(std::string_view config_name) const {
    field out = *this;
    out.option = config_name;
    return out;
  }

  [[nodiscard]] const T& of(const Owner& o) const { return o.*member; }

  [[nodiscard]] T& of(Owner& o) const { return o.*member; }

  [[nodiscard]] bool applies_to(const Owner& o) const { return applies == nullptr || applies(o); }

  [[nodiscard]] constexpr std::string_view option_name() const {
    return option.empty() ? name : option;
  }

  std::string_view name; ///< the key in spec terms
  T Owner::*member;
  on_reload reload;
  shown show;
  std::string_view doc;
  bool (*applies)(const Owner&) = nullptr;
  std::string_view option;
};

/// The table of struct T: `spec_table<T>::fields`, a tuple of field<T, ...>.
template <class T>
struct spec_table;

template <class T>
concept tabled = requires {
  spec_table<T>::fields;
};

/// Calls `visit(f)` for each field f of T's table, in order.
template <tabled T, class Visit>
void for_each_field(Visit&& visit) {
  std::apply([&](const auto&... f) { (visit(f), ...); }, spec_table<T>::fields);
}

/// Whether `visit(f)` holds for every field of T's table; stops at the first that does not.
template <tabled T, class Visit>
bool all_fields(Visit&& visit) {
  return std::apply([&](const auto&... f) { return (visit(f) && ...); }, spec_table<T>::fields);
}

template <>
struct spec_table<resource_limit> {
  static constexpr std::tuple fields{
      field("soft", &resource_limit::soft, on_reload::restart, shown::always,
            "The soft limit, which the child may raise up to the hard one."),
      field("hard", &resource_limit::hard, on_reload::restart, shown::always,
            "The hard limit; resource_limit::unlimited is RLIM_INFINITY (:infinity in terms)."),
  };
};

template <>
struct spec_table<backoff_policy> {
  static constexpr std::tuple fields{
      field("initial", &backoff_policy::initial, on_reload::update, shown::always,
            "The delay of the first restart that waits."),
      field("max", &backoff_policy::max, on_reload::update, shown::always, "The longest delay."),
      field("multiplier", &backoff_policy::multiplier, on_reload::update, shown::always,
            "Each further restart of a streak waits this many times the one before."),
      field("jitter", &backoff_policy::jitter, on_reload::update, shown::always,
            "A random fraction (0..1) of the delay added or taken off."),
      field("reset_after", &backoff_policy::reset_after, on_reload::update, shown::always,
            "A child that stayed up this long ends its streak."),
      field("immediate", &backoff_policy::immediate, on_reload::update, shown::if_set,
            "The first restarts of a streak that do not wait."),
  };
};

template <>
struct spec_table<probe_spec> {
  static constexpr std::tuple fields{
      field("kind", &probe_spec::kind, on_reload::update, shown::always,
            "started, notify, tcp, http, exec or log."),
      field("target", &probe_spec::target, on_reload::update, shown::if_set,
            "tcp: host:port; http: the URL; log: the regex a line must match."),
      field("command", &probe_spec::command, on_reload::update, shown::if_set,
            "exec: the program and its arguments; exit 0 is success."),
      field("status", &probe_spec::status, on_reload::update, shown::always,
            "http: the status that counts as success.")
          .when([](const probe_spec& p) { return p.kind == probe_kind::http; }),
      field("interval", &probe_spec::interval, on_reload::update, shown::always,
            "Between two attempts."),
      field("timeout", &probe_spec::timeout, on_reload::update, shown::always,
            "An attempt that takes longer has failed."),
      field("failures", &probe_spec::failures, on_reload::update, shown::always,
            "health: failed checks in a row before the child is killed as unhealthy."),
  };
};

template <>
struct spec_table<cgroup_limits> {
  static constexpr std::tuple fields{
      field("memory", &cgroup_limits::memory, on_reload::restart, shown::if_set,
            "Bytes; past them the OOM killer ends the child (memory.max, MemoryMax=)."),
      field("memory_high", &cgroup_limits::memory_high, on_reload::restart, shown::if_set,
            "Bytes; past them the child is throttled (memory.high, MemoryHigh=)."),
      field("cpus", &cgroup_limits::cpus, on_reload::restart, shown::if_set,
            "CPUs' worth of time: 1.5 is 150 ms per 100 ms (cpu.max, CPUQuota=150%)."),
      field("pids", &cgroup_limits::pids, on_reload::restart, shown::if_set,
            "Processes and threads at once (pids.max, TasksMax=)."),
  };
};

template <>
struct spec_table<os_process_spec> {
  static constexpr std::tuple fields{
      field("command", &os_process_spec::command, on_reload::restart, shown::if_set,
            "A plain program and its arguments; empty for a kind run inside vigil-worker."),
      field("env", &os_process_spec::env, on_reload::restart, shown::if_set,
            "Variables added to the child's environment."),
      field("cwd", &os_process_spec::cwd, on_reload::restart, shown::if_set,
            "The working directory; empty keeps vigild's."),
      field("umask", &os_process_spec::umask, on_reload::restart, shown::if_set,
            "The file mode creation mask; unset keeps vigild's."),
      field("user", &os_process_spec::user, on_reload::restart, shown::if_set,
            "The user the child runs as; empty keeps vigild's."),
      field("group", &os_process_spec::group, on_reload::restart, shown::if_set,
            "The group the child runs as; empty is the user's own."),
      field("rlimits", &os_process_spec::rlimits, on_reload::restart, shown::if_set,
            "Resource limits by setrlimit's name in lower case: nofile, core, ..."),
      // The grants are the worker's from its start: a change takes a new incarnation.
      field("may_send", &os_process_spec::may_send, on_reload::restart, shown::if_set,
            "Registered names the worker may send to, beyond the pids it was given."),
      field("stop_signal", &os_process_spec::stop_signal, on_reload::restart, shown::always,
            "The signal that asks the child to stop, before the shutdown timeout's SIGKILL."),
      field("success_exit_codes", &os_process_spec::success_exit_codes, on_reload::update,
            shown::if_set, "Exit statuses that count as :normal."),
      field("no_restart_exit_codes", &os_process_spec::no_restart_exit_codes, on_reload::update,
            shown::if_set, "Exit statuses after which the child is not restarted."),
      field("limits", &os_process_spec::limits, on_reload::restart, shown::if_set,
            "Limits on the child's cgroup: memory, memory_high, cpus, pids."),
  };
};

/// The shapes of field types that codecs and printers take apart.
template <class T>
struct is_optional : std::false_type {};

template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};

template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

/// A map keyed by name: env, rlimits.
template <class T>
struct is_named_map : std::false_type {};

template <class V>
struct is_named_map<std::map<std::string, V>> : std::true_type {};

namespace detail {
inline bool is_worker(const child_spec& c) {
  return c.type == child_type::worker;
}

/// A worker running a kind: in vigild or inside vigil-worker.
inline bool runs_kind(const child_spec& c) {
  return is_worker(c) && c.mode != modes::command;
}

/// A worker that is an OS process: a kind inside vigil-worker or a plain command.
inline bool runs_os_process(const child_spec& c) {
  return is_worker(c) && c.mode != modes::inprocess;
}

inline bool is_simple(const supervisor_spec& s) {
  return s.how == strategy::simple_one_for_one;
}

inline bool holds(const supervisor_spec& s) {
  return s.on_max_restarts == max_restarts_action::hold;
}
} // namespace detail

template <>
struct spec_table<child_spec> {
  static constexpr std::tuple fields{
      field("id", &child_spec::id, on_reload::ignored, shown::never,
            "Unique among its siblings; names the child in paths (root/jobs/web)."),
      field("type", &child_spec::type, on_reload::restart, shown::never,
            "A worker, or a supervisor with children of its own."),
      field("kind", &child_spec::kind, on_reload::restart, shown::always,
            "The worker kind's name: `echo`, or one a plugin registers.")
          .when(detail::runs_kind),
      field("mode", &child_spec::mode, on_reload::restart, shown::always,
            "inprocess (in vigild), process (inside vigil-worker) or command (a plain program).")
          .when(detail::runs_kind),
      field("args", &child_spec::args, on_reload::restart, shown::always,
            "The kind's arguments, a map term.")
          .when(detail::runs_kind),
      field("os", &child_spec::os, on_reload::restart, shown::inline_,
            "How an OS-process child runs (docs/os-workers.md).")
          .when(detail::runs_os_process),
      field("supervisor", &child_spec::supervisor, on_reload::own, shown::inline_,
            "A nested supervisor's flags and children (type = supervisor)."),
      field("restart", &child_spec::restart, on_reload::update, shown::always,
            "When the child is restarted: permanent, transient or temporary."),
      field("shutdown", &child_spec::shutdown, on_reload::update, shown::always,
            "How the child is stopped: brutal_kill, infinity, or a timeout before the kill."),
      field("significant", &child_spec::significant, on_reload::update, shown::if_set,
            "Whether its exit can end the supervisor under auto_shutdown."),
      field("backoff", &child_spec::backoff, on_reload::update, shown::if_set,
            "The child's own restart backoff; unset takes the supervisor's default."),
      field("ready", &child_spec::ready, on_reload::update, shown::always,
            "When the child counts as started; the next child starts only then.")
          .when([](const child_spec& c) { return c.ready.kind != probe_kind::started; }),
      field("ready_timeout", &child_spec::ready_timeout, on_reload::update, shown::always,
            "Not ready in time is a failed start, {:not_ready, detail}.")
          .when([](const child_spec& c) { return c.ready.kind != probe_kind::started; }),
      // The checks run beside the child's process: a changed one takes a new incarnation.
      field("health", &child_spec::health, on_reload::restart, shown::always,
            "A liveness check that kills the child as {:unhealthy, detail} when it fails.")
          .when([](const child_spec& c) { return c.health.kind != probe_kind::started; }),
      field("watchdog", &child_spec::watchdog, on_reload::restart, shown::if_set,
            "notify children: the longest silence between two WATCHDOG=1; zero is off."),
      field("where", &child_spec::where, on_reload::ignored, shown::never,
            "Where the config wrote the child, for messages; equality ignores it."),
  };
};

template <>
struct spec_table<supervisor_spec> {
  static constexpr std::tuple fields{
      field("name", &supervisor_spec::name, on_reload::ignored, shown::never,
            "The supervisor's name: root, or its id as a child."),
      field("strategy", &supervisor_spec::how, on_reload::update, shown::always,
            "Which children are restarted when one exits."),
      field("intensity", &supervisor_spec::intensity, on_reload::update, shown::always,
            "At most this many restarts within `period`; one more and on_max_restarts decides."),
      field("period", &supervisor_spec::period, on_reload::update, shown::always,
            "The window of `intensity`."),
      field("auto_shutdown", &supervisor_spec::auto_shutdown, on_reload::update, shown::always,
            "Whether a significant child's exit ends the supervisor."),
      field("max_children", &supervisor_spec::max_children, on_reload::update, shown::always,
            "simple_one_for_one: the most dynamic children at once (0 = unbounded).")
          .when(detail::is_simple),
      field("on_max_restarts", &supervisor_spec::on_max_restarts, on_reload::update, shown::always,
            "Past intensity: escalate as OTP, or hold the child as failed."),
      field("hold_retry", &supervisor_spec::hold_retry, on_reload::update, shown::always,
            "A held child is tried again after this, doubling; zero never retries it.")
          .when(detail::holds),
      field("hold_retry_max", &supervisor_spec::hold_retry_max, on_reload::update, shown::always,
            "The longest wait between tries of a held child.")
          .when(detail::holds),
      field("default_backoff", &supervisor_spec::default_backoff, on_reload::update,
            shown::if_unset,
            "The backoff of children that have none of their own; unset restarts them at once.")
          .as_option("crash_backoff"),
      field("children", &supervisor_spec::children, on_reload::own, shown::never,
            "The children, in start order; under simple_one_for_one, the one template."),
      field("where", &supervisor_spec::where, on_reload::ignored, shown::never,
            "Where the config wrote the supervisor, for messages; equality ignores it."),
  };
};

namespace detail {
template <class T>
bool same(const T& a, const T& b) {
  return a == b;
}

/// A nested supervisor is compared by value, not by pointer.
inline bool same(const std::shared_ptr<const supervisor_spec>& a,
                 const std::shared_ptr<const supervisor_spec>& b) {
  return a == nullptr || b == nullptr ? a == b : *a == *b;
}

} // namespace detail

/// Equal in every field; where the config wrote it is provenance, not part of the spec.
template <tabled T>
bool equal_fields(const T& a, const T& b) {
  return all_fields<T>([&](const auto& f) {
    using value = typename std::decay_t<decltype(f)>::value_type;
    if constexpr (std::is_same_v<value, source_location>) {
      return true;
    } else {
      return detail::same(f.of(a), f.of(b));
    }
  });
}

inline bool operator==(const child_spec& a, const child_spec& b) {
  return equal_fields(a, b);
}

inline bool operator==(const supervisor_spec& a, const supervisor_spec& b) {
  return equal_fields(a, b);
}

} // namespace vigil::supervision
