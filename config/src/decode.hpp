// SPDX-License-Identifier: Apache-2.0
#pragma once

// TOML nodes to option values: the type checks every option shares.

#include "vigil/common/result.hpp"

#include "option_table.hpp"

#include <toml++/toml.h>

#include <span>
#include <string>

namespace vigil::config::detail {

/// Why a node is not a value of its option's type.
struct decode_failure {
  /// "expected one of permanent, transient, temporary, got \"sometimes\"".
  std::string message;
  /// Appended to the option's path when the fault is inside the value: "[1]", ".delay".
  std::string subpath;
  /// The node at fault; the option's own value when null.
  const toml::node* at = nullptr;
};

/// Checks `node` against `info.type` and converts it. Not for `table` and `table_array`
/// options, which the loader walks itself.
[[nodiscard]] result<value, decode_failure> decode(const toml::node& node, const option_info& info);

/// A `rlimits` table: names from `info.choices`, each an integer, "unlimited" or [soft, hard]
/// (decode_rlimits.cpp).
[[nodiscard]] result<value, decode_failure> decode_rlimits(const toml::node& node,
                                                           const option_info& info);

/// A `limits` table: memory and memory_high sizes ("512M"), cpus > 0, pids >= 1 or
/// "infinity" (decode_limits.cpp).
[[nodiscard]] result<value, decode_failure> decode_limits(const toml::node& node,
                                                          const option_info& info);
/// `daemon.default_pids`: a number of tasks (0: none), "N%" of the host's (1 to 100) or
/// "infinity" (decode_limits.cpp).
[[nodiscard]] result<value, decode_failure> decode_tasks(const toml::node& node,
                                                         const option_info& info);
/// `ready` and `health`: "started", "notify" (ready only) or a table with one check and its
/// timing (decode_probe.cpp).
[[nodiscard]] result<value, decode_failure> decode_probe(const toml::node& node,
                                                         const option_info& info);
/// An array of exit statuses, each 0..255.
[[nodiscard]] result<value, decode_failure> decode_exit_codes(const toml::node& node,
                                                              const option_info& info);

/// How an error quotes a value after "got": strings in double quotes, numbers and booleans
/// as written, "an array" and "a table" for containers.
[[nodiscard]] std::string describe_value(const toml::node& node);

/// "one of a, b, c": the names a table of named entries takes (rlimits, limits).
[[nodiscard]] std::string names_phrase(std::span<const std::string_view> names);

} // namespace vigil::config::detail
