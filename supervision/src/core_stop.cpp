// SPDX-License-Identifier: Apache-2.0
// Async stops: a child stopped through the API under one_for_one or simple_one_for_one is
// not waited for. The rest of its job (the reply, a replace's start) waits behind it, as
// behind a readiness gate, and the calls that name it wait until it is dead; everything
// else (sibling exits, timers, calls about other children) is served meanwhile. Also the
// `stopped` event that every stop ends with, async or not.
#include "vigil/common/assert.hpp"
#include "vigil/supervision/core.hpp"

#include <algorithm>

namespace vigil::supervision {

const supervisor_core::stopping* supervisor_core::stopping_of(std::uint64_t key) const {
  auto it = std::find_if(stops_.begin(), stops_.end(),
                         [key](const stopping& s) { return s.target.key == key; });
  return it == stops_.end() ? nullptr : &*it;
}

supervisor_core::stopping* supervisor_core::stopping_pid(pid process) {
  auto it = std::find_if(stops_.begin(), stops_.end(),
                         [process](const stopping& s) { return s.target.child == process; });
  return it == stops_.end() ? nullptr : &*it;
}

bool supervisor_core::blocked(const request& req) {
  if (stops_.empty()) {
    return false;
  }
  auto held = [this](const std::string& id) {
    const entry* c = find_id(id);
    return c != nullptr && stopping_of(c->key) != nullptr;
  };
  bool wait = false;
  switch (req.what) {
  case request::kind::which_children:
  case request::kind::count_children: break;
  case request::kind::start_child:
    wait = !req.before.empty(); // it renumbers the children a pending stop names
    break;
  case request::kind::terminate_child:
    wait = req.child ? stopping_pid(*req.child) != nullptr : !dynamic() && held(req.id);
    break;
  case request::kind::restart_child:
  case request::kind::delete_child: wait = !dynamic() && held(req.id); break;
  case request::kind::replace_child:
  case request::kind::update_child: wait = req.spec && !dynamic() && held(req.spec->id); break;
  case request::kind::update_flags:
    // A group strategy would restart the child being stopped with its siblings, before it
    // is dead; intensity, backoff and the like change at once.
    wait = !req.flags || req.flags->how == strategy::one_for_all
           || req.flags->how == strategy::rest_for_one;
    break;
  }
  return wait;
}

bool supervisor_core::defer(const request& req, term& reply_to) {
  if (!blocked(req)) {
    return false;
  }
  deferred_.push_back({req, std::move(reply_to)});
  return true;
}

bool supervisor_core::release_deferred() {
  auto it = std::find_if(deferred_.begin(), deferred_.end(),
                         [this](const deferred_call& call) { return !blocked(call.req); });
  if (it == deferred_.end()) {
    return false;
  }
  deferred_call call = std::move(*it);
  deferred_.erase(it);
  job_ = job_kind::none;
  dispatch(call.req, std::move(call.reply_to), last_now_);
  return true;
}

void supervisor_core::tell_stopped(const stop_target& t, child_state then, term reason) {
  child_event e;
  e.what = child_event::kind::stopped;
  e.path = path_ + "/" + t.id;
  e.id = t.id;
  e.key = t.key;
  e.dynamic = dynamic();
  e.type = t.type;
  e.process = t.child;
  e.state = then;
  e.due = t.due;
  e.reason = std::move(reason);
  events_.push_back(std::move(e));
}

bool supervisor_core::child_stopped(pid child, const term& reason, time_point now) {
  VIGIL_ASSERT(idle());
  stopping* found = stopping_pid(child);
  if (found == nullptr) {
    return false;
  }
  stopping s = std::move(*found);
  stops_.erase(stops_.begin() + (found - stops_.data()));
  last_now_ = now;
  child_state then = child_state::stopped;
  if (entry* c = find_key(s.target.key)) {
    then = c->queued ? child_state::restarting : child_state::stopped; // a replace starts it
    c->state = then;
  }
  tell_stopped(s.target, then, reason);
  job_ = s.job;
  reply_to_ = std::move(s.reply_to);
  ops_ = std::move(s.held);
  if (ops_.empty()) {
    job_ = job_kind::none;
  }
  return true;
}

} // namespace vigil::supervision
