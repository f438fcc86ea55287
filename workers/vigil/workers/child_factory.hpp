// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/supervision/supervisor.hpp"
#include "vigil/workers/kind_registry.hpp"

namespace vigil::workers {

/// The child factory a daemon gives its supervisors: it starts a worker spec's kind from
/// `kinds` (which must outlive the tree) and registers the new process under the spec's
/// name, if it has one, so the name follows the child across restarts.
///
/// Errors name the child and the cause: an unknown kind (listing the known ones), a bad
/// argument, a taken name, or a mode this build cannot run yet.
[[nodiscard]] supervision::child_factory make_child_factory(const kind_registry& kinds);

} // namespace vigil::workers
