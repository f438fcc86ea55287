// SPDX-License-Identifier: Apache-2.0
#include "vigil/supervision/spec_term.hpp"

#include "spec_keys.hpp"

#include <string>
#include <utility>
#include <vector>

namespace vigil::supervision {

using namespace detail; // the keys

namespace {

term strings(const std::vector<std::string>& v) {
  std::vector<term> out(v.begin(), v.end());
  return term::list(out);
}

term shutdown_term(const shutdown_policy& s) {
  switch (s.how) {
  case shutdown_policy::kind::brutal_kill: return a_brutal_kill;
  case shutdown_policy::kind::infinity: return atoms::infinity;
  case shutdown_policy::kind::timeout: break;
  }
  return term(static_cast<std::int64_t>(s.timeout.count()));
}

term os_term(const os_process_spec& os) {
  std::vector<std::pair<term, term>> env;
  for (const auto& [k, v] : os.env) {
    env.emplace_back(term(k), term(v));
  }
  term umask = os.umask ? term(static_cast<std::int64_t>(*os.umask)) : term(atoms::nil);
  return term::map({{k_command, strings(os.command)},
                    {k_env, term::map(env)},
                    {k_cwd, os.cwd},
                    {k_umask, umask},
                    {k_user, os.user},
                    {k_group, os.group},
                    {k_stop_signal, os.stop_signal},
                    {k_may_send, strings(os.may_send)}});
}

term where_term(const source_location& w) {
  return vigil::make_tuple(w.file, static_cast<std::int64_t>(w.line),
                           static_cast<std::int64_t>(w.column));
}

} // namespace

atom to_atom(strategy s) {
  return strategy_atoms[static_cast<std::size_t>(s)];
}

atom to_atom(restart_type r) {
  return restart_atoms[static_cast<std::size_t>(r)];
}

atom to_atom(child_type t) {
  return type_atoms[static_cast<std::size_t>(t)];
}

atom to_atom(auto_shutdown a) {
  return auto_shutdown_atoms[static_cast<std::size_t>(a)];
}

term backoff_term(const std::optional<backoff_policy>& policy) {
  if (!policy) {
    return atoms::nil;
  }
  const auto& b = *policy;
  return term::map({{k_initial, static_cast<std::int64_t>(b.initial.count())},
                    {k_max, static_cast<std::int64_t>(b.max.count())},
                    {k_multiplier, b.multiplier},
                    {k_jitter, b.jitter},
                    {k_reset_after, static_cast<std::int64_t>(b.reset_after.count())},
                    {k_immediate, static_cast<std::int64_t>(b.immediate)}});
}

term to_term(const child_spec& spec) {
  term backoff = backoff_term(spec.backoff);
  term nested = spec.supervisor ? to_term(*spec.supervisor) : term(atoms::nil);
  return term::map({{k_id, spec.id},
                    {k_type, to_atom(spec.type)},
                    {k_restart, to_atom(spec.restart)},
                    {k_shutdown, shutdown_term(spec.shutdown)},
                    {k_significant, spec.significant},
                    {k_backoff, backoff},
                    {k_kind, spec.kind},
                    {k_args, spec.args},
                    {k_mode, spec.mode},
                    {k_os, os_term(spec.os)},
                    {k_supervisor, nested},
                    {k_where, where_term(spec.where)}});
}

term to_term(const supervisor_spec& spec) {
  std::vector<term> children;
  children.reserve(spec.children.size());
  for (const auto& c : spec.children) {
    children.push_back(to_term(c));
  }
  return term::map(
      {{k_name, spec.name},
       {k_strategy, to_atom(spec.how)},
       {k_intensity, static_cast<std::int64_t>(spec.intensity)},
       {k_period, static_cast<std::int64_t>(spec.period.count())},
       {k_auto_shutdown, to_atom(spec.auto_shutdown)},
       {k_max_children, static_cast<std::int64_t>(spec.max_children)},
       {k_on_max_restarts, max_restarts_atoms[static_cast<std::size_t>(spec.on_max_restarts)]},
       {k_hold_retry, static_cast<std::int64_t>(spec.hold_retry.count())},
       {k_hold_retry_max, static_cast<std::int64_t>(spec.hold_retry_max.count())},
       {k_default_backoff, backoff_term(spec.default_backoff)},
       {k_children, term::list(children)},
       {k_where, where_term(spec.where)}});
}

std::optional<atom> registered_name(const child_spec& spec) {
  if (!spec.args.is_map()) {
    return std::nullopt;
  }
  const term* v = spec.args.find(term(k_name));
  if (v == nullptr) {
    v = spec.args.find(term("name"));
  }
  if (v != nullptr && v->is_atom() && !v->is(atoms::nil)) {
    return v->as_atom();
  }
  if (v != nullptr && v->is_string()) {
    return atom::try_make(v->as_string());
  }
  return std::nullopt;
}

} // namespace vigil::supervision
