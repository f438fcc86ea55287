// SPDX-License-Identifier: Apache-2.0
#pragma once

// The built-in worker kinds: the inspiration's workers, plus one that crashes on request so
// that a demo can show a supervisor at work.

#include "vigil/runtime/context.hpp"
#include "vigil/workers/kind_registry.hpp"

#include <chrono>
#include <vector>

namespace vigil::workers {

/// BasicWorker: answers `{from, _}` with `{:ok, :pong}`, after `delay` if one is set.
task<> echo(context& self, std::chrono::milliseconds delay);

/// BasicServer: for each `{from, _}` it spawns a worker that waits `delay` and answers
/// `{:ok, :pong}`, so requests are served in parallel.
task<> dispatcher(context& self, std::chrono::milliseconds delay);

/// Answers like echo, but exits with `:crashed` when it receives `:crash`, and by itself
/// after `crash_after` when that is set: a child for a supervisor to restart.
task<> crasher(context& self, std::chrono::milliseconds crash_after);

/// A kind and the arguments it accepts, ready for kind_registry::add.
struct kind_with_args {
  kind k;
  arg_schema args;
};

/// echo, dispatcher and crasher, ready for a kind_registry.
std::vector<kind_with_args> builtin_kinds();

} // namespace vigil::workers
