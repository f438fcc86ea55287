// SPDX-License-Identifier: Apache-2.0
#pragma once

// The option table: one entry per option of vigil.toml, with what it sets. Private to the
// config component; options.hpp publishes the documentation part.

#include "vigil/config/config.hpp"
#include "vigil/config/options.hpp"
#include "vigil/supervision/spec.hpp"
#include "vigil/term/term.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace vigil::config::detail {

/// A value read from TOML and checked against its option's type (decode.hpp):
/// string, name, path, choice and signal give a string (signals normalised to "SIGTERM");
/// integer and umask an int64; number a double; duration milliseconds; rlimits a map of
/// resource limits; tasks a pids_default; and so on.
using value =
    std::variant<std::string, std::int64_t, double, bool, std::chrono::milliseconds,
                 supervision::shutdown_policy, std::vector<std::string>,
                 std::map<std::string, std::string>, term,
                 std::map<std::string, supervision::resource_limit>, supervision::cgroup_limits,
                 supervision::probe_spec, std::vector<std::int64_t>, pids_default>;

/// The objects that the options of the table being read set. Only those of the sections
/// allowed in that table are non-null.
struct targets {
  daemon_options* daemon = nullptr;
  observer_options* observer = nullptr;
  hook_spec* hook = nullptr;
  supervision::supervisor_spec* supervisor = nullptr;
  supervision::child_spec* child = nullptr;
  supervision::backoff_policy* backoff = nullptr;
};

/// Returns an empty string when `v` is acceptable, else what was expected instead, as
/// "an integer from 0 to 1000000": the loader adds ", got <value>".
using validator = std::string (*)(const value& v);

/// Stores `v` in the field the option names. `v` holds the alternative the option's type
/// decodes to, and has passed the validator.
using applier = void (*)(const value& v, targets& t);

/// One option: its documentation and behaviour. `apply` is null for `table` and
/// `table_array` options, which the loader walks itself.
struct option {
  option_info info;
  validator validate = nullptr;
  applier apply = nullptr;
};

/// The backoff of children without one of their own, under `crash_backoff = true` (the
/// default): the first restart of a streak of quick deaths is immediate, then 1 s doubling
/// to 30 s, and the streak ends once the child stayed up for 10 s.
[[nodiscard]] inline supervision::backoff_policy crash_backoff() {
  using namespace std::chrono_literals;
  return supervision::backoff_policy{.initial = 1s,
                                     .max = 30s,
                                     .multiplier = 2.0,
                                     .jitter = 0.1,
                                     .reset_after = 10s,
                                     .immediate = 1};
}

/// Every option, in documentation order.
[[nodiscard]] std::span<const option> option_table();

/// The option called `name` in section `s`, or nullptr.
[[nodiscard]] const option* find_option(section s, std::string_view name);

} // namespace vigil::config::detail
