// SPDX-License-Identifier: Apache-2.0
// Spec changes on a running supervisor, as a reload makes them: replace_child (stop, new
// spec, start, at the child's place in the start order), update_child (new spec, the process
// is left alone), update_flags (the supervisor's own flags), OTP's code_change for
// supervisors split into calls; and the insertion of a new child in the middle of the start
// order (start_child with `before`).
#include "vigil/common/assert.hpp"
#include "vigil/supervision/core.hpp"

#include <utility>
#include <vector>

namespace vigil::supervision {
namespace {

const atom a_not_found("not_found");
const atom a_simple_one_for_one("simple_one_for_one");

term failure(term reason) {
  return vigil::make_tuple(atoms::error, std::move(reason));
}

bool pending(child_state s) {
  return s == child_state::restarting || s == child_state::backoff;
}

} // namespace

std::optional<term> supervisor_core::refuse_spec_change(const request& req) {
  if (dynamic()) {
    return term(a_simple_one_for_one); // dynamic children keep the spec they started with
  }
  if (!req.spec) {
    return term(atoms::badarg);
  }
  if (find_id(req.spec->id) == nullptr) {
    return term(a_not_found);
  }
  if (auto ok = validate(*req.spec); !ok) {
    return term(ok.error().context);
  }
  return std::nullopt;
}

void supervisor_core::replace_child(const request& req, term reply_to) {
  if (auto why = refuse_spec_change(req)) {
    return reply(std::move(reply_to), failure(std::move(*why)));
  }
  std::uint64_t key = find_id(req.spec->id)->key;
  // With the old spec's shutdown: the process being stopped is the old one. Async where the
  // strategy allows: the new one starts once the old one is dead.
  stop_keys({key}, true);
  entry& c = *find_key(key);
  c.spec = *req.spec;
  c.backoff_count = 0;
  c.holds = 0; // a reload that changes a held child starts it afresh
  c.window = restart_intensity(spec_.intensity, spec_.period);
  queue_start(c); // a pending restart is dropped: its deadline goes stale
  job_ = job_kind::api_restart;
  reply_to_ = std::move(reply_to);
}

// Keys order the children, and a key between two neighbours may not exist: every child from
// `before` on moves to a fresh key, larger than any so far. Only while idle, so no queued
// step names a key; the moved children's old deadlines go stale, new ones replace them.
std::uint64_t supervisor_core::insert_before(child_spec spec, std::uint64_t before) {
  VIGIL_ASSERT(ops_.empty() && awaiting_ == 0);
  std::vector<entry> moved;
  for (auto it = children_.find(before); it != children_.end();) {
    moved.push_back(std::move(it->second));
    it = children_.erase(it);
  }
  std::uint64_t key = add(std::move(spec));
  for (auto& e : moved) {
    e.key = next_key_++;
    if (e.process) {
      by_pid_[*e.process] = e.key;
    }
    if (waiting(e) && e.restart_at != time_point::max()) { // max: held, never retried
      deadlines_.emplace(e.restart_at, e.key);
    }
    std::uint64_t k = e.key;
    children_.emplace(k, std::move(e));
  }
  return key;
}

void supervisor_core::update_child(const request& req, term reply_to) {
  if (auto why = refuse_spec_change(req)) {
    return reply(std::move(reply_to), failure(std::move(*why)));
  }
  entry& c = *find_id(req.spec->id);
  bool live = c.process || pending(c.state);
  if (live && c.spec.type != req.spec->type) {
    // A worker's pid cannot become a supervisor's: that takes replace_child.
    return reply(std::move(reply_to), failure(term("the child's type changed")));
  }
  c.spec = *req.spec;
  emit(child_event::kind::updated, c, c.process);
  events_.back().spec = &c.spec;
  reply(std::move(reply_to), atoms::ok);
}

void supervisor_core::update_flags(const request& req, term reply_to) {
  if (!req.flags) {
    return reply(std::move(reply_to), failure(atoms::badarg));
  }
  const supervisor_spec& f = *req.flags;
  if ((f.how == strategy::simple_one_for_one) != dynamic()) {
    // The children would change nature: the supervisor must be restarted instead.
    return reply(std::move(reply_to), failure(a_simple_one_for_one));
  }
  supervisor_spec next = spec_;
  next.how = f.how;
  next.intensity = f.intensity;
  next.period = f.period;
  next.auto_shutdown = f.auto_shutdown;
  next.max_children = f.max_children;
  next.on_max_restarts = f.on_max_restarts;
  next.hold_retry = f.hold_retry;
  next.hold_retry_max = f.hold_retry_max;
  next.default_backoff = f.default_backoff;
  next.children.clear();
  if (dynamic()) {
    next.children = f.children;
  } else {
    for (const auto& [key, c] : children_) {
      next.children.push_back(c.spec);
    }
  }
  if (auto ok = validate(next); !ok) {
    return reply(std::move(reply_to), failure(term(ok.error().context)));
  }
  if (!dynamic()) {
    next.children.clear(); // the entries hold them (see start)
  }
  spec_ = std::move(next);
  intensity_.set_limits(spec_.intensity, spec_.period);
  for (auto& [key, c] : children_) {
    c.window.set_limits(spec_.intensity, spec_.period);
  }
  template_.reset();
  if (dynamic() && !spec_.children.empty()) {
    template_ = spec_.children.front();
  }
  reply(std::move(reply_to), atoms::ok);
}

} // namespace vigil::supervision
