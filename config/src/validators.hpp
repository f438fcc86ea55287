// SPDX-License-Identifier: Apache-2.0
#pragma once

// The validators of the option table: each returns an empty string for an acceptable value,
// else what was expected instead ("an integer from 0 to 1000000").

#include "option_table.hpp"

#include <string>

namespace vigil::config::detail::validators {

/// An integer from Lo to Hi.
template <std::int64_t Lo, std::int64_t Hi>
std::string in_range(const value& v) {
  auto n = std::get<std::int64_t>(v);
  if (n >= Lo && n <= Hi) {
    return {};
  }
  return "an integer from " + std::to_string(Lo) + " to " + std::to_string(Hi);
}

/// A duration of at least 1ms.
std::string positive_duration(const value& v);
/// brutal_kill, infinity, or a timeout of at least 1ms.
std::string positive_shutdown(const value& v);
/// A backoff multiplier: 1.0 to 100.0.
std::string multiplier_range(const value& v);
/// A fraction: 0.0 to 1.0.
std::string fraction(const value& v);
/// A non-empty string.
std::string not_empty(const value& v);
/// An array whose strings are all non-empty.
std::string non_empty_strings(const value& v);
/// Names a worker may send to: each non-empty, at most an atom's length, listed once, and
/// none of vigild's own processes.
std::string send_grants(const value& v);
/// A command line: at least the program, which is not empty.
std::string command_line(const value& v);
/// A path that fits in a Unix socket address.
std::string socket_path(const value& v);

/// [observer] listen: an absolute socket path or tcp://HOST:PORT (addresses.hpp).
std::string listen_address(const value& v);
/// [[hook]] on: known event names, at least one.
std::string hook_events(const value& v);
/// [[hook]] post: a loopback http:// URL.
std::string loopback_url(const value& v);
/// "auto", "off" or an absolute path (daemon.cgroup).
std::string cgroup_base(const value& v);
/// Environment variable names: non-empty, without '='.
std::string environment(const value& v);

} // namespace vigil::config::detail::validators
