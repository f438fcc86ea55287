// SPDX-License-Identifier: Apache-2.0
// Start gating (docs/readiness.md): a child whose ready.kind is not `started` holds the rest
// of its start job until it says it is ready, exits, or its ready_timeout passes; and the
// exit-code policy of OS children (success_exit_codes, no_restart_exit_codes).
#include "vigil/common/assert.hpp"
#include "vigil/supervision/core.hpp"
#include "vigil/supervision/readiness.hpp"

#include <algorithm>

namespace vigil::supervision {
namespace {

const atom a_exit_status("exit_status");

std::optional<std::int64_t> exit_status(const term& reason) {
  if (reason.is_tuple() && reason.size() == 2 && reason[0].is(a_exit_status)
      && reason[1].is_integer()) {
    return reason[1].as_integer();
  }
  return std::nullopt;
}

bool listed(const std::vector<std::int64_t>& codes, const term& reason) {
  auto n = exit_status(reason);
  return n && std::find(codes.begin(), codes.end(), *n) != codes.end();
}

} // namespace

bool supervisor_core::initializing() const noexcept {
  return std::any_of(gates_.begin(), gates_.end(),
                     [](const gate& g) { return g.job == job_kind::init; });
}

supervisor_core::gate* supervisor_core::gate_of(std::uint64_t key) {
  auto it =
      std::find_if(gates_.begin(), gates_.end(), [key](const gate& g) { return g.key == key; });
  return it == gates_.end() ? nullptr : &*it;
}

bool supervisor_core::open_gate(entry& c, pid p, time_point now) {
  if (c.spec.ready.kind == probe_kind::started) {
    return false; // ready once started: nothing to wait for, nothing to pay
  }
  gate g;
  g.key = c.key;
  g.process = p;
  g.deadline = now + c.spec.ready_timeout;
  g.waiting_for = ready_detail(c.spec.ready);
  g.job = job_;
  g.reply_to = reply_to_;
  g.held = std::exchange(ops_, {});
  c.state = child_state::starting;
  emit(child_event::kind::waiting, c, p, term(g.waiting_for));
  gates_.push_back(std::move(g));
  job_ = job_kind::none;
  return true;
}

bool supervisor_core::child_ready(pid child, const term& status, time_point /*now*/) {
  VIGIL_ASSERT(idle());
  entry* c = find_pid(child);
  gate* g = c == nullptr ? nullptr : gate_of(c->key);
  if (g == nullptr || exiting_) {
    return false; // late, repeated, or from a child that needs no readiness: nothing to do
  }
  c->state = child_state::running;
  emit(child_event::kind::ready, *c, child, status);
  job_ = g->job;
  reply_to_ = std::move(g->reply_to);
  ops_ = std::move(g->held);
  std::erase_if(gates_, [key = c->key](const gate& x) { return x.key == key; });
  if (job_ == job_kind::api_start || job_ == job_kind::api_restart) {
    ops_.emplace_front(reply_step{reply_to_, vigil::make_tuple(atoms::ok, child)});
  }
  if (ops_.empty()) {
    job_ = job_kind::none;
  }
  return true;
}

bool supervisor_core::child_waiting(pid child, std::string detail) {
  entry* c = find_pid(child);
  gate* g = c == nullptr ? nullptr : gate_of(c->key);
  if (g == nullptr) {
    return false;
  }
  g->waiting_for = std::move(detail);
  emit(child_event::kind::waiting, *c, child, term(g->waiting_for));
  return true;
}

supervisor_core::entry* supervisor_core::resume_gate(std::uint64_t key) {
  gate* g = gate_of(key);
  VIGIL_ASSERT(g != nullptr);
  job_ = g->job;
  reply_to_ = std::move(g->reply_to);
  for (auto& o : g->held) {
    ops_.push_back(std::move(o));
  }
  std::erase_if(gates_, [key](const gate& x) { return x.key == key; });
  return find_key(key);
}

void supervisor_core::drop_gate(std::uint64_t key) {
  gate* g = gate_of(key);
  if (g == nullptr) {
    return;
  }
  if (g->job == job_kind::api_start || g->job == job_kind::api_restart) {
    ops_.emplace_back(
        reply_step{g->reply_to, vigil::make_tuple(atoms::error, not_ready_reason("stopped"))});
  }
  // The starts it held are due at once: a group restart queues them again in its order, any
  // other stop leaves them to the next timer turn.
  for (auto& o : g->held) {
    if (auto* s = std::get_if<start_op>(&o)) {
      if (entry* e = find_key(s->key); e != nullptr && e->queued) {
        e->queued = false;
        wait_until(*e, child_state::restarting, time_point{});
      }
    } else {
      ops_.push_back(std::move(o));
    }
  }
  std::erase_if(gates_, [key](const gate& x) { return x.key == key; });
}

void supervisor_core::fail_gate(std::uint64_t key, const term& reason, time_point now) {
  entry* c = resume_gate(key);
  // The failed start goes the way of any failed start: start_failed reads the reason from
  // an error's context, so a term that is not a string travels as its text and comes back.
  std::string text = reason.is_string() ? std::string(reason.as_string()) : to_string(reason);
  start_failed(*c, error{make_error_code(errc::invalid_argument), text}, now);
}

bool supervisor_core::expire_gates(time_point now) {
  auto due = std::find_if(gates_.begin(), gates_.end(),
                          [now](const gate& g) { return g.deadline <= now; });
  if (due == gates_.end()) {
    return false;
  }
  std::uint64_t key = due->key;
  entry* c = find_key(key);
  term reason = not_ready_reason(due->waiting_for);
  // Killed: a child that is not ready in time is not asked to stop nicely.
  stop_step kill;
  kill.targets.push_back(
      {due->process, shutdown_policy::brutal_kill(), c->spec.id, key, c->spec.type});
  ops_.emplace_back(std::move(kill));
  clear_running(*c);
  c->state = child_state::stopped;
  ops_.emplace_back(not_ready_op{key, std::move(reason), now});
  return true;
}

std::string supervisor_core::waiting_for(std::uint64_t key) const {
  auto it =
      std::find_if(gates_.begin(), gates_.end(), [key](const gate& g) { return g.key == key; });
  return it == gates_.end() ? std::string() : it->waiting_for;
}

std::optional<time_point> supervisor_core::ready_deadline() const {
  std::optional<time_point> first;
  for (const auto& g : gates_) {
    if (!first || g.deadline < *first) {
      first = g.deadline;
    }
  }
  return first;
}

term supervisor_core::effective_reason(const entry& c, const term& reason) {
  return listed(c.spec.os.success_exit_codes, reason) ? term(atoms::normal) : reason;
}

bool supervisor_core::prevents_restart(const entry& c, const term& reason) {
  return listed(c.spec.os.no_restart_exit_codes, reason);
}

} // namespace vigil::supervision
