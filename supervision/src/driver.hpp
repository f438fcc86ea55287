// SPDX-License-Identifier: Apache-2.0
#pragma once

// Parts of the supervisor process shared by its source files.

#include "vigil/supervision/core.hpp"
#include "vigil/supervision/supervisor.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil::supervision::detail {

/// Carries out a stop step: each child gets exit(child, :shutdown) (or :kill for
/// brutal_kill), then :kill once its shutdown timeout passed, and the step ends when every
/// child is dead. Watched through a monitor, not the link: a child that unlinked itself
/// must not hang its supervisor (OTP's "naughty child"). Returns each child's exit reason
/// (from its DOWN), in the order of `stop.targets`.
task<std::vector<term>> stop_children(context& self, stop_step stop);

/// Starts a supervisor linked to `parent` (if any) and waits for its start to end. Its
/// events go to `events`, under `path`.
task<result<pid>> start_for(context& self, supervisor_spec spec, child_factory factory,
                            std::optional<pid> parent, std::optional<atom> name, event_sink events,
                            std::shared_ptr<const std::string> path);

} // namespace vigil::supervision::detail
