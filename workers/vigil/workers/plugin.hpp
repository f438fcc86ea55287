// SPDX-License-Identifier: Apache-2.0
#pragma once

// The plugin interface. A plugin is a shared library that exports one C function,
//
//     extern "C" int vigil_plugin_init(vigil::workers::kind_registry* registry, int abi);
//
// which adds its worker kinds to `registry` and returns 0, or non-zero to refuse (for
// example when `abi` is not the VIGIL_PLUGIN_ABI it was built for). A kind added with
// `registry->add(kind, arg_schema)` declares the arguments it accepts, which vigild checks
// every child of the kind against at --check-config, boot and reload; one added with
// `registry->add(kind)` (as plugins built before schemas existed do) takes any arguments. The kinds
// are C++: a plugin must be built with the same compiler and the same Vigil headers as the daemon.
// VIGIL_PLUGIN_EXPORT marks the function; `workers/plugins/greeter.cpp` is an example.

#include "vigil/common/result.hpp"
#include "vigil/workers/kind_registry.hpp"

#include <string>

/// Bumped whenever kind_registry, kind or the runtime's process API change incompatibly.
#define VIGIL_PLUGIN_ABI 1
#define VIGIL_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

namespace vigil::workers {

/// The name of the entry point a plugin exports.
inline constexpr const char* plugin_entry_point = "vigil_plugin_init";

/// Loads the plugin at `path` and lets it register its kinds. Errors say what went wrong
/// with which file: it cannot be opened (dlerror), lacks the entry point, refused to
/// initialise, or, as root with `strict_modes`, could be changed by someone other than root
/// (itself or a directory on its way: vigil/common/file_trust.hpp), in which case it is
/// not loaded. A loaded plugin stays loaded for the life of the program.
[[nodiscard]] result<void> load_plugin(const std::string& path, kind_registry& registry,
                                       bool strict_modes = true);

} // namespace vigil::workers
