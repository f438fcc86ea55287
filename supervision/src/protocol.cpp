// SPDX-License-Identifier: Apache-2.0
// The supervisor call protocol as terms: requests, and replies (child rows, counts, errors)
// encoded and decoded, with every field of what comes back checked.
#include "vigil/supervision/protocol.hpp"

#include "vigil/supervision/spec_term.hpp"
#include "vigil/term/text.hpp"

#include <array>
#include <string>

namespace vigil::supervision::protocol {
namespace {

const atom a_call("$sup_call");
const atom a_stop("stop");
const atom a_which_children("which_children");
const atom a_count_children("count_children");
const atom a_start_child("start_child");
const atom a_terminate_child("terminate_child");
const atom a_restart_child("restart_child");
const atom a_delete_child("delete_child");
const atom a_replace_child("replace_child");
const atom a_update_child("update_child");
const atom a_update_flags("update_flags");
const atom a_spec("spec");
const atom a_args("args");
const atom a_restarting("restarting");
const atom a_backoff("backoff");
const atom a_running("running");
const atom a_stopped("stopped");
const atom a_failed("failed");
const atom a_starting("starting");
const atom a_stopping("stopping");
const atom a_never("never");
const atom a_specs("specs");
const atom a_active("active");
const atom a_supervisors("supervisors");
const atom a_workers("workers");
const atom a_not_found("not_found");
const atom a_already_present("already_present");
const atom a_already_started("already_started");
const atom a_max_children("max_children");
const atom a_vigil("vigil");
const atom a_generic("generic");
const atom a_system("system");

const std::array<atom, 7> state_atoms{a_running, a_restarting, a_backoff, a_stopped,
                                      a_failed,  a_starting,   a_stopping};
const std::array<atom, 9> request_atoms{a_which_children,  a_count_children, a_start_child,
                                        a_terminate_child, a_restart_child,  a_delete_child,
                                        a_replace_child,   a_update_child,   a_update_flags};

error malformed(std::string_view what) {
  return error{make_error_code(errc::invalid_argument),
               "supervisor protocol: malformed " + std::string(what)};
}

term pid_column(const child_info& c) {
  switch (c.state) {
  case child_state::running:
  case child_state::starting:
  case child_state::stopping: return c.process ? term(*c.process) : term(atoms::undefined);
  case child_state::restarting: return a_restarting;
  case child_state::backoff:
    return vigil::make_tuple(a_backoff, static_cast<std::int64_t>(c.backoff_left.count()));
  case child_state::stopped:
  case child_state::failed: break;
  }
  return atoms::undefined;
}

result<child_info> child_from_term(const term& t) {
  if (!t.is_tuple() || (t.size() != 4 && t.size() != 5) || !t[0].is_string() || !t[2].is_atom()
      || !t[3].is_atom()) {
    return malformed("child row");
  }
  child_info c;
  c.id = std::string(t[0].as_string());
  c.type = t[2].is(to_atom(child_type::supervisor)) ? child_type::supervisor : child_type::worker;
  bool known = false;
  for (std::size_t i = 0; i < state_atoms.size(); ++i) {
    if (t[3].is(state_atoms[i])) {
      c.state = static_cast<child_state>(i);
      known = true;
    }
  }
  const term& p = t[1];
  if (p.is_pid()) {
    c.process = p.as_pid();
  } else if (p.is_tuple() && p.size() == 2 && p[0].is(a_backoff) && p[1].is_integer()) {
    c.backoff_left = milliseconds{p[1].as_integer()};
  }
  if (!known) {
    return malformed("child state");
  }
  if (t.size() == 5 && t[4].is_string()) { // starting: what for; stopped: why, for good
    (c.state == child_state::starting ? c.waiting_for : c.reason) = std::string(t[4].as_string());
    return c;
  }
  if (t.size() == 5) { // a failed child: {reason, ms until its retry | :never}
    const term& f = t[4];
    if (!f.is_tuple() || f.size() != 2 || !f[0].is_string()) {
      return malformed("failed child");
    }
    c.reason = std::string(f[0].as_string());
    c.retry = f[1].is_integer();
    c.backoff_left = milliseconds{c.retry ? f[1].as_integer() : 0};
  }
  return c;
}

bool is_id(const term& t) {
  return t.is_string();
}

} // namespace

atom call_tag() {
  return a_call;
}

atom stop_tag() {
  return a_stop;
}

term to_term(const child_info& info) {
  if (info.state == child_state::failed) {
    term retry =
        info.retry ? term(static_cast<std::int64_t>(info.backoff_left.count())) : term(a_never);
    return vigil::make_tuple(info.id, pid_column(info), to_atom(info.type), a_failed,
                             vigil::make_tuple(info.reason, retry));
  }
  if (info.state == child_state::starting || !info.reason.empty()) {
    return vigil::make_tuple(info.id, pid_column(info), to_atom(info.type),
                             state_atoms[static_cast<std::size_t>(info.state)],
                             info.state == child_state::starting ? info.waiting_for : info.reason);
  }
  return vigil::make_tuple(info.id, pid_column(info), to_atom(info.type),
                           state_atoms[static_cast<std::size_t>(info.state)]);
}

term to_term(const std::vector<child_info>& children) {
  std::vector<term> rows;
  rows.reserve(children.size());
  for (const auto& c : children) {
    rows.push_back(to_term(c));
  }
  return term::list(rows);
}

term to_term(const child_counts& counts) {
  auto pair = [](atom key, std::uint32_t n) {
    return vigil::make_tuple(key, static_cast<std::int64_t>(n));
  };
  return term::list({pair(a_specs, counts.specs), pair(a_active, counts.active),
                     pair(a_supervisors, counts.supervisors), pair(a_workers, counts.workers)});
}

result<std::vector<child_info>> children_from_term(const term& t) {
  if (!t.is_list()) {
    return malformed("which_children reply");
  }
  std::vector<child_info> out;
  for (const term& row : t.elements()) {
    auto c = child_from_term(row);
    if (!c) {
      return c.error();
    }
    out.push_back(std::move(*c));
  }
  return out;
}

result<child_counts> counts_from_term(const term& t) {
  if (!t.is_list() || t.size() != 4) {
    return malformed("count_children reply");
  }
  std::array<std::uint32_t, 4> values{};
  const std::array<atom, 4> keys{a_specs, a_active, a_supervisors, a_workers};
  for (std::size_t i = 0; i < 4; ++i) {
    const term& kv = t[i];
    if (!kv.is_tuple() || kv.size() != 2 || !kv[0].is(keys[i]) || !kv[1].is_integer()) {
      return malformed("count_children reply");
    }
    values[i] = static_cast<std::uint32_t>(kv[1].as_integer());
  }
  return child_counts{values[0], values[1], values[2], values[3]};
}

term encode(const request& req) {
  atom what = request_atoms[static_cast<std::size_t>(req.what)];
  switch (req.what) {
  case request::kind::which_children:
  case request::kind::count_children: return what;
  case request::kind::start_child:
    if (req.spec && !req.before.empty()) {
      return vigil::make_tuple(what, vigil::make_tuple(a_spec, to_term(*req.spec), req.before));
    }
    return vigil::make_tuple(what, req.spec ? vigil::make_tuple(a_spec, to_term(*req.spec))
                                            : vigil::make_tuple(a_args, req.args.value_or(term())));
  case request::kind::terminate_child:
    return vigil::make_tuple(what, req.child ? term(*req.child) : term(req.id));
  case request::kind::replace_child:
  case request::kind::update_child:
    return vigil::make_tuple(what, req.spec ? to_term(*req.spec) : term());
  case request::kind::update_flags:
    return vigil::make_tuple(what, req.flags ? to_term(*req.flags) : term());
  case request::kind::restart_child:
  case request::kind::delete_child: break;
  }
  return vigil::make_tuple(what, req.id);
}

result<request> decode(const term& t) {
  request req;
  const term& head = t.is_tuple() && t.size() == 2 ? t[0] : t;
  bool known = false;
  for (std::size_t i = 0; i < request_atoms.size(); ++i) {
    if (head.is(request_atoms[i])) {
      req.what = static_cast<request::kind>(i);
      known = true;
    }
  }
  bool bare =
      req.what == request::kind::which_children || req.what == request::kind::count_children;
  if (!known || bare != t.is_atom()) {
    return malformed("request");
  }
  if (bare) {
    return req;
  }
  const term& arg = t[1];
  if (req.what == request::kind::start_child) {
    if (arg.is_tuple() && arg.size() == 2 && arg[0].is(a_args)) {
      req.args = arg[1];
      return req;
    }
    bool before = arg.is_tuple() && arg.size() == 3 && is_id(arg[2]);
    if (!arg.is_tuple() || (arg.size() != 2 && !before) || !arg[0].is(a_spec)) {
      return malformed("start_child");
    }
    auto spec = child_spec_from_term(arg[1]);
    if (!spec) {
      return spec.error();
    }
    req.spec = std::move(*spec);
    if (before) {
      req.before = std::string(arg[2].as_string());
    }
    return req;
  }
  if (req.what == request::kind::replace_child || req.what == request::kind::update_child) {
    auto spec = child_spec_from_term(arg);
    if (!spec) {
      return spec.error();
    }
    req.id = spec->id;
    req.spec = std::move(*spec);
    return req;
  }
  if (req.what == request::kind::update_flags) {
    auto flags = supervisor_spec_from_term(arg);
    if (!flags) {
      return flags.error();
    }
    req.flags = std::move(*flags);
    return req;
  }
  if (req.what == request::kind::terminate_child && arg.is_pid()) {
    req.child = arg.as_pid();
    return req;
  }
  if (!is_id(arg)) {
    return malformed("child id");
  }
  req.id = std::string(arg.as_string());
  return req;
}

error reply_error(const term& reason, std::string_view what) {
  errc code = errc::invalid_argument;
  if (reason.is(a_not_found)) {
    code = errc::not_found;
  } else if (reason.is(a_running) || reason.is(a_restarting) || reason.is(a_already_present)
             || (reason.is_tuple() && reason.size() == 2 && reason[0].is(a_already_started))) {
    code = errc::already_exists;
  } else if (reason.is(a_max_children)) {
    code = errc::limit_exceeded;
  }
  std::string text = reason.is_string() ? std::string(reason.as_string())
                     : reason.is_atom() ? std::string(reason.as_atom().name())
                                        : to_string(reason);
  return error{make_error_code(code), std::string(what) + ": " + text};
}

term encode_error(const error& e) {
  atom category = a_generic;
  if (e.code.category() == vigil_category()) {
    category = a_vigil;
  } else if (e.code.category() == std::system_category()) {
    category = a_system;
  }
  return vigil::make_tuple(static_cast<std::int64_t>(e.code.value()), category, e.context);
}

error decode_error(const term& t) {
  if (!t.is_tuple() || t.size() != 3 || !t[0].is_integer() || !t[2].is_string()) {
    return malformed("error");
  }
  int value = static_cast<int>(t[0].as_integer());
  const std::error_category* category = &std::generic_category();
  if (t[1].is(a_vigil)) {
    category = &vigil_category();
  } else if (t[1].is(a_system)) {
    category = &std::system_category();
  }
  return error{std::error_code(value, *category), std::string(t[2].as_string())};
}

} // namespace vigil::supervision::protocol
