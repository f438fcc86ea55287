// SPDX-License-Identifier: Apache-2.0
#pragma once

// The supervisor API for callers: from a process (`co_await which_children(self, sup)`)
// or from a thread through its mailbox (`which_children(box, sup)`, which blocks). Each
// call is gen_server:call's protocol (semantics 24): monitor the supervisor, send the
// request tagged with the monitor's reference, wait for the reply or the DOWN.
//
// Errors: std::errc::timed_out when no reply came within `after` (a reply that comes
// later still lands in a calling process's mailbox, as before OTP 24's aliases; a mailbox
// caller never sees it), errc::not_found when the supervisor is not alive ("noproc") or the
// child does not exist, and the reasons of protocol.hpp's `reply_error` otherwise.

#include "vigil/common/result.hpp"
#include "vigil/runtime/context.hpp"
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/core.hpp"
#include "vigil/supervision/spec.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace vigil::supervision {

/// gen_server's default call timeout.
inline constexpr timeout default_call_timeout{5000};

/// Sends `req` and returns the raw reply term.
[[nodiscard]] task<result<term>> call(context& self, pid sup, request req,
                                      timeout after = default_call_timeout);
[[nodiscard]] result<term> call(mailbox& caller, pid sup, request req,
                                timeout after = default_call_timeout);

[[nodiscard]] task<result<std::vector<child_info>>>
which_children(context& self, pid sup, timeout after = default_call_timeout);
[[nodiscard]] result<std::vector<child_info>> which_children(mailbox& caller, pid sup,
                                                             timeout after = default_call_timeout);

[[nodiscard]] task<result<child_counts>> count_children(context& self, pid sup,
                                                        timeout after = default_call_timeout);
[[nodiscard]] result<child_counts> count_children(mailbox& caller, pid sup,
                                                  timeout after = default_call_timeout);

/// Adds and starts a child (a static supervisor), or starts a dynamic child with a full
/// spec; returns its pid.
[[nodiscard]] task<result<pid>> start_child(context& self, pid sup, child_spec spec,
                                            timeout after = default_call_timeout);
[[nodiscard]] result<pid> start_child(mailbox& caller, pid sup, child_spec spec,
                                      timeout after = default_call_timeout);

/// Adds and starts a child of a static supervisor at a place in its start order: just
/// before the child `before_id` (empty: after all), so that rest_for_one, one_for_all and
/// the reverse stop order see it where the config has it. errc::not_found if there is no
/// child `before_id`; errc::invalid_argument for a simple_one_for_one supervisor.
[[nodiscard]] task<result<pid>> start_child(context& self, pid sup, child_spec spec,
                                            std::string before_id,
                                            timeout after = default_call_timeout);
[[nodiscard]] result<pid> start_child(mailbox& caller, pid sup, child_spec spec,
                                      std::string before_id, timeout after = default_call_timeout);

/// Starts a dynamic child from a simple_one_for_one template, its `args` map merged with
/// `args` (a non-map replaces them). Fails with errc::limit_exceeded at max_children.
[[nodiscard]] task<result<pid>> start_dynamic_child(context& self, pid sup, term args,
                                                    timeout after = default_call_timeout);
[[nodiscard]] result<pid> start_dynamic_child(mailbox& caller, pid sup, term args,
                                              timeout after = default_call_timeout);

/// Stops a child (by id; a dynamic child by pid). It is not restarted; a temporary or
/// dynamic child's spec is forgotten, others stay as `stopped`.
[[nodiscard]] task<result<void>> terminate_child(context& self, pid sup, std::string id,
                                                 timeout after = default_call_timeout);
[[nodiscard]] result<void> terminate_child(mailbox& caller, pid sup, std::string id,
                                           timeout after = default_call_timeout);
[[nodiscard]] task<result<void>> terminate_child(context& self, pid sup, pid child,
                                                 timeout after = default_call_timeout);
[[nodiscard]] result<void> terminate_child(mailbox& caller, pid sup, pid child,
                                           timeout after = default_call_timeout);

/// Starts a stopped child again; errc::already_exists if it runs or is restarting.
[[nodiscard]] task<result<pid>> restart_child(context& self, pid sup, std::string id,
                                              timeout after = default_call_timeout);
[[nodiscard]] result<pid> restart_child(mailbox& caller, pid sup, std::string id,
                                        timeout after = default_call_timeout);

/// Forgets a stopped child's spec.
[[nodiscard]] task<result<void>> delete_child(context& self, pid sup, std::string id,
                                              timeout after = default_call_timeout);
[[nodiscard]] result<void> delete_child(mailbox& caller, pid sup, std::string id,
                                        timeout after = default_call_timeout);

/// Gives the child `spec.id` a new spec in place (`supervisorctl update` for a changed
/// program): the running process stops with its old spec's shutdown, then a process of the
/// new spec starts at the child's place in the start order, so rest_for_one and one_for_all
/// see the order of the config. A pending restart is dropped; a stopped child starts too.
/// Returns the new pid; if the new spec fails to start the child stays stopped, with it.
/// errc::not_found for an unknown id; errc::invalid_argument for a simple_one_for_one
/// supervisor or an invalid spec.
[[nodiscard]] task<result<pid>> replace_child(context& self, pid sup, child_spec spec,
                                              timeout after = default_call_timeout);
[[nodiscard]] result<pid> replace_child(mailbox& caller, pid sup, child_spec spec,
                                        timeout after = default_call_timeout);

/// Gives the child `spec.id` a new spec and leaves its process alone: how it is supervised
/// (restart, shutdown, significant, backoff) changes from now on, and its next start uses
/// the whole new spec (for a nested supervisor: its new subtree). A running child cannot
/// change type. Errors as replace_child's.
[[nodiscard]] task<result<void>> update_child(context& self, pid sup, child_spec spec,
                                              timeout after = default_call_timeout);
[[nodiscard]] result<void> update_child(mailbox& caller, pid sup, child_spec spec,
                                        timeout after = default_call_timeout);

/// Gives the supervisor new flags: strategy, intensity, period (restarts already counted
/// stay in the window), auto_shutdown, max_children and, for simple_one_for_one, the child
/// template (running dynamic children keep their spec). `flags.children` is ignored
/// otherwise. A change into or out of simple_one_for_one is refused (errc::invalid_argument).
[[nodiscard]] task<result<void>> update_flags(context& self, pid sup, supervisor_spec flags,
                                              timeout after = default_call_timeout);
[[nodiscard]] result<void> update_flags(mailbox& caller, pid sup, supervisor_spec flags,
                                        timeout after = default_call_timeout);

/// Stops the supervisor: its children stop in reverse order, then it exits with `reason`.
/// Returns once it is dead (gen_server:stop); errc::not_found if it was not alive.
[[nodiscard]] task<result<void>>
stop_supervisor(context& self, pid sup, term reason = atoms::normal, timeout after = infinity);
[[nodiscard]] result<void> stop_supervisor(mailbox& caller, pid sup, term reason = atoms::normal,
                                           timeout after = infinity);

} // namespace vigil::supervision
