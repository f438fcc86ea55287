// SPDX-License-Identifier: Apache-2.0
#pragma once

// The spec's enums, and the one spelling of their values. The spec's term codec (as atoms),
// the config's choices, `describe`, reload plans and the daemon's replies all read these
// arrays, so a value is renamed or added here alone. An enum's value is its index in its
// array.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace vigil::supervision {

using milliseconds = std::chrono::milliseconds;

/// Which children a supervisor restarts when one exits (semantics 22).
enum class strategy : std::uint8_t {
  one_for_one,       ///< only the child that exited
  one_for_all,       ///< every child
  rest_for_one,      ///< the child and those started after it
  simple_one_for_one ///< dynamic children of one spec, started on request
};

/// When a child is restarted (semantics 21).
enum class restart_type : std::uint8_t {
  permanent, ///< always
  transient, ///< unless it exited :normal, :shutdown or {:shutdown, _}
  temporary  ///< never, not even when a sibling's exit restarts the others
};

enum class child_type : std::uint8_t { worker, supervisor };

/// OTP 24's auto_shutdown: whether a significant child's exit ends the supervisor.
enum class auto_shutdown : std::uint8_t { never, any_significant, all_significant };

/// What a supervisor does when a restart goes over its intensity (failure domains,
/// docs/supervision.md).
enum class max_restarts_action : std::uint8_t {
  escalate, ///< OTP: stop every child and exit with :shutdown; the parent decides
  hold,     ///< the child is `failed`, retried on `hold_retry`'s schedule; the rest runs on
};

/// How a child is stopped (shutdown_policy::kind): killed at once, asked and killed after a
/// timeout, or asked and waited for.
enum class shutdown_kind : std::uint8_t { brutal_kill, timeout, infinity };

/// How a child is checked from outside (probe_spec): for readiness (`ready`) or liveness
/// (`health`). docs/readiness.md.
enum class probe_kind : std::uint8_t {
  started, ///< ready: once its start returned (OTP's rule, the default); health: no check
  notify,  ///< the child says so: sd_notify READY=1 (commands), ready() (workers)
  tcp,     ///< a TCP connect to `target` ("host:port") succeeds
  http,    ///< a GET of `target` (a URL) answers `status`
  exec,    ///< `command` exits 0
  log,     ///< a line of the child's output matches the regex `target`
};

/// The names of enum E's values, in declaration order: `enum_names<E>::values`.
template <class E>
struct enum_names;

template <>
struct enum_names<strategy> {
  static constexpr std::array<std::string_view, 4> values{"one_for_one", "one_for_all",
                                                          "rest_for_one", "simple_one_for_one"};
};

template <>
struct enum_names<restart_type> {
  static constexpr std::array<std::string_view, 3> values{"permanent", "transient", "temporary"};
};

template <>
struct enum_names<child_type> {
  static constexpr std::array<std::string_view, 2> values{"worker", "supervisor"};
};

template <>
struct enum_names<auto_shutdown> {
  static constexpr std::array<std::string_view, 3> values{"never", "any_significant",
                                                          "all_significant"};
};

template <>
struct enum_names<max_restarts_action> {
  static constexpr std::array<std::string_view, 2> values{"escalate", "hold"};
};

template <>
struct enum_names<probe_kind> {
  static constexpr std::array<std::string_view, 6> values{"started", "notify", "tcp",
                                                          "http",    "exec",   "log"};
};

/// A shutdown is a duration, or one of these (`timeout` is only the kind of a duration).
template <>
struct enum_names<shutdown_kind> {
  static constexpr std::array<std::string_view, 3> values{"brutal_kill", "timeout", "infinity"};
};

template <class E>
concept named_enum = std::is_enum_v<E> && requires {
  enum_names<E>::values;
};

/// The name of `e`: name_of(strategy::one_for_all) is "one_for_all".
template <named_enum E>
[[nodiscard]] constexpr std::string_view name_of(E e) {
  const auto& names = enum_names<E>::values;
  auto i = static_cast<std::size_t>(e);
  return i < names.size() ? names[i] : std::string_view("?");
}

/// The value called `name`, or nullopt.
template <named_enum E>
[[nodiscard]] constexpr std::optional<E> enum_from_name(std::string_view name) {
  const auto& names = enum_names<E>::values;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) {
      return static_cast<E>(i);
    }
  }
  return std::nullopt;
}

/// child_spec::mode: a kind in the daemon, a kind inside vigil-worker, or a plain program.
/// The config's `mode` option takes the first two; `command = [...]` sets the third.
namespace modes {
inline constexpr std::string_view inprocess = "inprocess";
inline constexpr std::string_view process = "process";
inline constexpr std::string_view command = "command";
inline constexpr std::array<std::string_view, 2> of_kinds{inprocess, process};
} // namespace modes

} // namespace vigil::supervision
