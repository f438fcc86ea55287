// SPDX-License-Identifier: Apache-2.0
#pragma once

// The supervisor's message protocol, like gen_server:call's (semantics 24):
//   call:   {:"$sup_call", from, ref, request}      reply: {ref, value}
//   start:  the new supervisor sends {ref, :ok} or {ref, {:error, error}} to its starter.
// Requests and their replies:
//   :which_children                -> [{id, pid | :undefined | :restarting | {:backoff, ms},
//                                       :worker | :supervisor, state}]
//                                     state: :running | :restarting | :backoff | :stopped |
//                                     :starting; a :failed child's row has a fifth element,
//                                     {reason, ms until its retry | :never}; a :starting
//                                     one what it waits for, a string; a :stopped one that
//                                     exited for good (no_restart_exit_codes) its reason
//   :count_children                -> [specs: n, active: n, supervisors: n, workers: n]
//   {:start_child, {:spec, spec}}  -> {:ok, pid} | {:error, reason}
//   {:start_child, {:spec, spec, before_id}} -> same; the child goes before `before_id` in the
//                                     start order ({:error, :not_found} if there is none)
//   {:start_child, {:args, args}}  -> same, from the simple_one_for_one template
//   {:terminate_child, id | pid}   -> :ok | {:error, :not_found}
//   {:restart_child, id}           -> {:ok, pid} | {:error, :running | :restarting |
//                                                          :not_found | reason}
//   {:delete_child, id}            -> :ok | {:error, :running | :restarting | :not_found}
//   {:replace_child, spec}         -> {:ok, pid} | {:error, :not_found | :simple_one_for_one |
//                                                          reason}
//   {:update_child, spec}          -> :ok | {:error, :not_found | :simple_one_for_one | reason}
//   {:update_flags, sup_spec}      -> :ok | {:error, :simple_one_for_one | reason}
//   {:stop, reason}                -> no reply: the caller watches the supervisor die
// Ids are strings; a failed start's reason is the error text, a string.

#include "vigil/common/result.hpp"
#include "vigil/supervision/core.hpp"
#include "vigil/term/term.hpp"

#include <vector>

namespace vigil::supervision::protocol {

/// The tag of a call message.
[[nodiscard]] atom call_tag();
/// The request atom of a stop.
[[nodiscard]] atom stop_tag();

[[nodiscard]] term to_term(const child_info& info);
[[nodiscard]] term to_term(const std::vector<child_info>& children);
[[nodiscard]] term to_term(const child_counts& counts);
[[nodiscard]] result<std::vector<child_info>> children_from_term(const term& t);
[[nodiscard]] result<child_counts> counts_from_term(const term& t);

/// Encodes a request of the API (any kind but stop).
[[nodiscard]] term encode(const request& req);
/// Decodes a request; errc::invalid_argument for anything malformed.
[[nodiscard]] result<request> decode(const term& t);

/// `{:error, reason}` of a reply, as an error: :not_found -> errc::not_found, :running,
/// :restarting, :already_present, {:already_started, pid} -> errc::already_exists,
/// :max_children -> errc::limit_exceeded, others errc::invalid_argument. `what` names the
/// call in the context, as "restart_child web: running".
[[nodiscard]] error reply_error(const term& reason, std::string_view what);

/// An error as a term, {code, category, text}, and back: a failed start's error crosses
/// from the new supervisor to its starter so.
[[nodiscard]] term encode_error(const error& e);
[[nodiscard]] error decode_error(const term& t);

} // namespace vigil::supervision::protocol
