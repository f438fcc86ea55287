// SPDX-License-Identifier: Apache-2.0
#pragma once

// Specs as terms, so that a child spec can travel in a message (start_child) and be shown
// by the shell. Maps with atom keys named after the fields of spec_fields.hpp's tables, which
// the codec walks, so every field makes the trip:
//   %{id: "web", type: :worker, kind: "echo", mode: "inprocess", args: term,
//     os: %{command: [...], env: %{"K" => "V"}, cwd: "", umask: nil | n, user: "", group: "",
//       rlimits: %{"nofile" => %{soft: 1024, hard: :infinity}}, may_send: [...],
//       stop_signal: "SIGTERM"},
//     supervisor: nil | %{...}, restart: :permanent, shutdown: 5000 | :brutal_kill | :infinity,
//     significant: false, backoff: nil | %{initial: 100, max: 30000, multiplier: 2.0,
//       jitter: 0.1, reset_after: 10000, immediate: 0}, where: {"file", line, column}}
//   %{name: "root", strategy: :one_for_one, intensity: 3, period: 5000, auto_shutdown: :never,
//     max_children: 0, on_max_restarts: :escalate, hold_retry: 10000, hold_retry_max: 300000,
//     default_backoff: nil | %{...}, children: [...], where: {...}}
// Durations are integers in milliseconds. from_term(to_term(s)) == s, `where` included.

#include "vigil/common/result.hpp"
#include "vigil/supervision/spec.hpp"
#include "vigil/term/term.hpp"

namespace vigil::supervision {

[[nodiscard]] term to_term(const child_spec& spec);
[[nodiscard]] term to_term(const supervisor_spec& spec);

/// Decodes a child spec; errc::invalid_argument names the first bad field by its path
/// (":os.rlimits.nofile.soft").
[[nodiscard]] result<child_spec> child_spec_from_term(const term& t);
[[nodiscard]] result<supervisor_spec> supervisor_spec_from_term(const term& t);

/// The atom of an enum value (spec_names.hpp spells them).
[[nodiscard]] atom to_atom(strategy s);
[[nodiscard]] atom to_atom(restart_type r);
[[nodiscard]] atom to_atom(child_type t);
[[nodiscard]] atom to_atom(auto_shutdown a);

/// The name a child asks to be registered under: `args` is a map whose key :name (or
/// "name") holds an atom. Factories register the child under it; since registration is per
/// process, each restarted process registers again, so the name follows the child.
[[nodiscard]] std::optional<atom> registered_name(const child_spec& spec);

} // namespace vigil::supervision
