// SPDX-License-Identifier: Apache-2.0
#pragma once

// The checks vigild runs on a config beyond its text (config::checks): plugins that load,
// worker kinds and their arguments against each kind's schema, and the host's programs,
// users and groups. `--check-config` counts every problem as an error (exit 100); boot and
// reload refuse a file with kind or plugin errors and log the host's problems as warnings
// (the child concerned then fails when it starts). docs/vigild.md, "Checking a config".

#include "vigil/config/config.hpp"
#include "vigil/workers/kind_registry.hpp"

namespace vigil::daemon {

/// When the checks run, which decides what they do with plugins and how the host counts.
enum class check_mode : std::uint8_t {
  check_config, ///< `vigild --check-config`: plugins load into `kinds`; all problems are errors
  boot,         ///< vigild starting: plugins load into `kinds`; host problems are warnings
  reload,       ///< a reload: plugins are not loaded again, `kinds` are the running ones
};

/// The checks of `check_config` or `boot` against `kinds` (which must outlive them, and
/// into which the config's plugins load) and this host.
[[nodiscard]] config::checks make_checks(workers::kind_registry& kinds, check_mode mode,
                                         bool strict_modes = true);

/// The checks of a reload against the running `kinds` (which must outlive them).
[[nodiscard]] config::checks make_reload_checks(const workers::kind_registry& kinds);

/// Why the program of `child` (a command) cannot run, or an empty string: `command[0]` is
/// looked up as the OS-worker launcher does, in the PATH the child gets (its `env`, else
/// vigild's, else /usr/local/bin:/usr/bin:/bin), and must be an executable regular file.
[[nodiscard]] std::string program_problem(const supervision::child_spec& child);

} // namespace vigil::daemon
