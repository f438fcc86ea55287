// SPDX-License-Identifier: Apache-2.0
#pragma once

// The readiness protocol between a started child and its supervisor (docs/readiness.md).
// A child whose spec has ready.kind != started is "starting" until its process sends
//   {:"$vigil_ready", self_pid, status_text}     (status_text: a string, may be empty)
// to its supervisor; until then the supervisor starts none of the children after it. On the
// way, the child may say what it waits for with
//   {:"$vigil_waiting", self_pid, detail}        (detail: a string, shown by status)
// The process is the one the child factory returned: an in-process worker's own process,
// or an OS child's port process (which forwards sd_notify's READY=1, a probe's success, or
// a process-mode worker's ready()). A kind's start gets its supervisor's context, so
// `sup.self()` is the pid to tell.

#include "vigil/runtime/context.hpp"
#include "vigil/supervision/spec.hpp"
#include "vigil/term/term.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace vigil::supervision {

[[nodiscard]] atom ready_tag();
[[nodiscard]] atom waiting_tag();

/// Tells `supervisor` that the calling process, a child it started, is ready.
void notify_ready(context& self, pid supervisor, std::string_view status = {});
/// Tells `supervisor` what the calling process still waits for before it is ready.
void notify_waiting(context& self, pid supervisor, std::string_view detail);

/// A decoded readiness message: who sent it, and its text.
struct readiness_message {
  bool ready = false; ///< $vigil_ready; else $vigil_waiting
  pid child;
  std::string text;
};

/// `m` as a readiness message, or nothing if it is none (malformed ones are none too).
[[nodiscard]] std::optional<readiness_message> decode_readiness(const term& m);

/// What a supervisor waits for, as status shows it: "notify", "tcp 127.0.0.1:6379",
/// "http http://127.0.0.1:8080/healthz", "exec pg_isready -q", "log /ready/".
[[nodiscard]] std::string ready_detail(const probe_spec& ready);

/// How long a call that starts `spec` (start_child, restart_child, replace_child) may take:
/// its reply comes once the child is ready, so `base` plus its ready_timeout if it has a
/// readiness check.
[[nodiscard]] timeout start_call_timeout(const child_spec& spec, timeout base);

/// {:not_ready, detail}: the reason of a start that was not ready within ready_timeout.
[[nodiscard]] term not_ready_reason(std::string_view detail);

} // namespace vigil::supervision
