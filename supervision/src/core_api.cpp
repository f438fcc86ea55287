// SPDX-License-Identifier: Apache-2.0
// The supervisor API as the core sees it: which_children, count_children, start_child,
// terminate_child, restart_child, delete_child (spec changes are in core_update.cpp).
// Replies are protocol terms.
#include "vigil/common/assert.hpp"
#include "vigil/supervision/core.hpp"
#include "vigil/supervision/protocol.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace vigil::supervision {
namespace {

const atom a_not_found("not_found");
const atom a_running("running");
const atom a_restarting("restarting");
const atom a_already_present("already_present");
const atom a_already_started("already_started");
const atom a_max_children("max_children");
const atom a_simple_one_for_one("simple_one_for_one");
const atom a_no_template("no_child_template");

term failure(term reason) {
  return vigil::make_tuple(atoms::error, std::move(reason));
}

bool pending(child_state s) {
  return s == child_state::restarting || s == child_state::backoff;
}

/// A dynamic child's arguments: the template's map with the request's entries over it;
/// anything that is not two maps replaces the template's arguments.
term merge_args(const term& base, const term& extra) {
  if (extra.is(atoms::nil)) {
    return base;
  }
  if (!base.is_map() || !extra.is_map()) {
    return extra;
  }
  std::vector<std::pair<term, term>> entries;
  entries.reserve(base.size() + extra.size());
  for (std::size_t i = 0; i < base.size(); ++i) {
    entries.emplace_back(base.map_key(i), base.map_value(i));
  }
  for (std::size_t i = 0; i < extra.size(); ++i) {
    entries.emplace_back(extra.map_key(i), extra.map_value(i)); // a repeated key keeps this
  }
  return term::map(entries);
}

} // namespace

void supervisor_core::handle(const request& req, term reply_to, time_point now) {
  VIGIL_ASSERT(idle());
  if (exiting_) {
    reply(std::move(reply_to), failure(atoms::shutdown));
    return;
  }
  if (defer(req, reply_to)) {
    return; // it names a child being stopped: served once that child is dead
  }
  dispatch(req, std::move(reply_to), now);
}

void supervisor_core::dispatch(const request& req, term reply_to, time_point now) {
  if (exiting_) {
    reply(std::move(reply_to), failure(atoms::shutdown));
    return;
  }
  switch (req.what) {
  case request::kind::which_children:
    reply(std::move(reply_to), protocol::to_term(which_children(now)));
    return;
  case request::kind::count_children:
    reply(std::move(reply_to), protocol::to_term(count_children()));
    return;
  case request::kind::start_child: start_child(req, std::move(reply_to)); return;
  case request::kind::terminate_child: terminate_child(req, std::move(reply_to)); return;
  case request::kind::restart_child: restart_child(req, std::move(reply_to)); return;
  case request::kind::delete_child: delete_child(req, std::move(reply_to)); return;
  case request::kind::replace_child: replace_child(req, std::move(reply_to)); return;
  case request::kind::update_child: update_child(req, std::move(reply_to)); return;
  case request::kind::update_flags: update_flags(req, std::move(reply_to)); return;
  }
}

void supervisor_core::start_child(const request& req, term reply_to) {
  child_spec spec;
  if (dynamic()) {
    if (spec_.max_children != 0 && children_.size() >= spec_.max_children) {
      return reply(std::move(reply_to), failure(a_max_children));
    }
    if (req.spec) {
      spec = *req.spec;
    } else if (template_) {
      spec = *template_;
      spec.args = merge_args(spec.args, req.args.value_or(term()));
    } else {
      return reply(std::move(reply_to), failure(a_no_template));
    }
  } else {
    if (!req.spec) {
      return reply(std::move(reply_to), failure(atoms::badarg));
    }
    spec = *req.spec;
    if (entry* e = find_id(spec.id)) {
      term why =
          e->process ? vigil::make_tuple(a_already_started, *e->process) : term(a_already_present);
      return reply(std::move(reply_to), failure(why));
    }
  }
  if (auto ok = validate(spec); !ok) {
    return reply(std::move(reply_to), failure(term(ok.error().context)));
  }
  std::uint64_t key = 0;
  if (req.before.empty()) {
    key = add(std::move(spec));
  } else if (dynamic()) {
    return reply(std::move(reply_to), failure(a_simple_one_for_one)); // dynamic: no order
  } else if (entry* next = find_id(req.before)) {
    key = insert_before(std::move(spec), next->key);
  } else {
    return reply(std::move(reply_to), failure(a_not_found));
  }
  queue_start(*find_key(key));
  job_ = job_kind::api_start;
  reply_to_ = std::move(reply_to);
}

void supervisor_core::terminate_child(const request& req, term reply_to) {
  entry* c = req.child ? find_pid(*req.child) : (dynamic() ? nullptr : find_id(req.id));
  if (c == nullptr) {
    return reply(std::move(reply_to), failure(a_not_found));
  }
  std::uint64_t key = c->key;
  bool forget = dynamic() || c->spec.restart == restart_type::temporary;
  const bool was_pending = !c->process && c->state != child_state::stopped;
  const bool async = c->process && async_stops();
  stop_keys({key}, async); // a terminated child is not restarted, nor counted for auto_shutdown
  c = find_key(key);
  c->state = child_state::stopped;
  if (was_pending) {
    tell_state(*c); // its pending restart is dropped: no stop tells it
  }
  c->retry = false;
  c->holds = 0; // an operator's stop ends a streak: the next start has a fresh budget
  c->backoff_count = 0;
  c->window = restart_intensity(spec_.intensity, spec_.period);
  if (forget && async) {
    ops_.emplace_back(forget_op{key}); // listed as stopping until it is dead
  } else if (forget) {
    erase_key(key);
  }
  reply(std::move(reply_to), atoms::ok);
}

supervisor_core::entry* supervisor_core::stopped_child(const request& req, term& reply_to) {
  if (dynamic()) {
    reply(std::move(reply_to), failure(a_simple_one_for_one));
    return nullptr;
  }
  entry* c = find_id(req.id);
  if (c != nullptr && !c->process && !pending(c->state)) {
    return c;
  }
  const atom& why = c == nullptr ? a_not_found : c->process ? a_running : a_restarting;
  reply(std::move(reply_to), failure(why));
  return nullptr;
}

void supervisor_core::restart_child(const request& req, term reply_to) {
  entry* c = stopped_child(req, reply_to);
  if (c == nullptr) {
    return;
  }
  if (c->state == child_state::failed) {
    // An operator acts: a held child gets a fresh budget and a first retry delay again.
    c->holds = 0;
    c->backoff_count = 0;
    c->window = restart_intensity(spec_.intensity, spec_.period);
  }
  queue_start(*c);
  job_ = job_kind::api_restart;
  reply_to_ = std::move(reply_to);
}

void supervisor_core::delete_child(const request& req, term reply_to) {
  entry* c = stopped_child(req, reply_to);
  if (c == nullptr) {
    return;
  }
  erase_key(c->key);
  reply(std::move(reply_to), atoms::ok);
}

std::vector<child_info> supervisor_core::which_children(time_point now) const {
  std::vector<child_info> out;
  out.reserve(children_.size());
  for (const auto& [key, c] : children_) {
    child_info info{c.spec.id, c.process, c.spec.type, c.state, milliseconds{0}};
    if (c.state == child_state::failed) {
      info.reason = c.reason;
      info.retry = c.restart_at != time_point::max();
    } else if (c.state == child_state::stopped) {
      info.reason = c.stop_reason;
    } else if (c.state == child_state::starting) {
      info.waiting_for = waiting_for(c.key);
    } else if (const stopping* s = stopping_of(c.key)) {
      info.process = s->target.child;
    }
    if ((c.state == child_state::backoff || info.retry) && c.restart_at > now) {
      info.backoff_left = std::chrono::ceil<milliseconds>(c.restart_at - now);
    }
    out.push_back(std::move(info));
  }
  return out;
}

child_counts supervisor_core::count_children() const {
  child_counts n;
  for (const auto& [key, c] : children_) {
    ++n.specs;
    n.active += c.process || stopping_of(key) != nullptr ? 1U : 0U; // a stopping one lives
    (c.spec.type == child_type::supervisor ? n.supervisors : n.workers) += 1;
  }
  return n;
}

std::optional<time_point> supervisor_core::next_deadline() const {
  std::optional<time_point> ready = ready_deadline();
  std::optional<time_point> restart = next_restart();
  if (ready && restart) {
    return std::min(*ready, *restart);
  }
  return ready ? ready : restart;
}

std::optional<time_point> supervisor_core::next_restart() const {
  // Lazy deletion: a deadline is stale once its child started, stopped, left or got a new
  // restart time.
  while (!deadlines_.empty()) {
    auto [at, key] = deadlines_.top();
    auto it = children_.find(key);
    if (it != children_.end() && waiting(it->second) && it->second.restart_at == at) {
      return at;
    }
    deadlines_.pop();
  }
  return std::nullopt;
}

} // namespace vigil::supervision
