// SPDX-License-Identifier: Apache-2.0
// The supervisor's event handling: start, exits, restarts by strategy, escalation, backoff.
// Requests of the API are in core_api.cpp.
#include "vigil/supervision/core.hpp"

#include "vigil/common/assert.hpp"
#include "vigil/term/text.hpp"

#include <algorithm>

namespace vigil::supervision {
namespace {

const atom a_failed_to_start_child("failed_to_start_child");

/// Waits for a start: a restart, a backoff, or the retry of a held child.
bool pending(child_state s) {
  return s == child_state::restarting || s == child_state::backoff || s == child_state::failed;
}

std::string reason_text(const term& reason) {
  return reason.is_string() ? std::string(reason.as_string()) : to_string(reason);
}

} // namespace

supervisor_core::supervisor_core(supervisor_spec spec, random_source random, std::string path)
    : spec_(std::move(spec)), random_(std::move(random)), intensity_(spec_.intensity, spec_.period),
      path_(std::move(path)) {
  if (dynamic() && !spec_.children.empty()) {
    template_ = spec_.children.front();
  }
}

// -- bookkeeping ----------------------------------------------------------------------------

supervisor_core::entry* supervisor_core::find_key(std::uint64_t key) {
  auto it = children_.find(key);
  return it == children_.end() ? nullptr : &it->second;
}

supervisor_core::entry* supervisor_core::find_pid(pid p) {
  auto it = by_pid_.find(p);
  return it == by_pid_.end() ? nullptr : find_key(it->second);
}

supervisor_core::entry* supervisor_core::find_id(const std::string& id) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&id](const auto& kv) { return kv.second.spec.id == id; });
  return it == children_.end() ? nullptr : &it->second;
}

void supervisor_core::erase_key(std::uint64_t key) {
  if (entry* c = find_key(key)) {
    emit(child_event::kind::removed, *c, c->process);
    clear_running(*c);
    children_.erase(key);
  }
}

std::uint64_t supervisor_core::add(child_spec spec) {
  entry e;
  e.key = next_key_++;
  e.spec = std::move(spec);
  e.window = restart_intensity(spec_.intensity, spec_.period);
  std::uint64_t key = e.key;
  children_.emplace(key, std::move(e));
  return key;
}

void supervisor_core::set_running(entry& c, pid p) {
  c.process = p;
  c.stop_reason.clear();
  c.state = child_state::running;
  by_pid_[p] = c.key;
}

void supervisor_core::clear_running(entry& c) {
  if (c.process) {
    by_pid_.erase(*c.process);
    c.process.reset();
  }
}

bool supervisor_core::waiting(const entry& c) noexcept {
  return !c.process && !c.queued && pending(c.state);
}

void supervisor_core::wait_until(entry& c, child_state state, time_point at) {
  c.state = state;
  c.restart_at = at;
  deadlines_.emplace(at, c.key);
}

void supervisor_core::queue_start(entry& c) {
  c.queued = true;
  c.retry = false;
  c.state = child_state::restarting;
  ops_.emplace_back(start_op{c.key});
}

void supervisor_core::reply(term to, term value) {
  ops_.emplace_back(reply_step{std::move(to), std::move(value)});
}

std::vector<std::uint64_t> supervisor_core::group_of(const entry& c) const {
  std::vector<std::uint64_t> group;
  auto first = children_.find(c.key);
  switch (spec_.how) {
  case strategy::one_for_all: first = children_.begin(); break;
  case strategy::rest_for_one: break;
  case strategy::one_for_one:
  case strategy::simple_one_for_one: return {c.key};
  }
  for (auto it = first; it != children_.end(); ++it) {
    group.push_back(it->first);
  }
  return group;
}

// Stops the running children among `keys` (given in start order) in reverse order; dynamic
// children all at once (semantics 23).
void supervisor_core::stop_keys(const std::vector<std::uint64_t>& keys, bool async) {
  stop_step stop;
  stop.concurrently = dynamic();
  stop.async = async && async_stops();
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    entry* c = find_key(*it);
    if (c != nullptr && c->process) {
      stop.targets.push_back({*c->process, c->spec.shutdown, c->spec.id, c->key, c->spec.type});
      clear_running(*c);
      c->state = child_state::stopped;
      drop_gate(c->key); // stopped before it was ready: what it held goes on
    }
  }
  if (!stop.targets.empty()) {
    ops_.emplace_back(std::move(stop));
  }
}

// -- events ---------------------------------------------------------------------------------

void supervisor_core::start(time_point /*now*/) {
  VIGIL_ASSERT(idle() && children_.empty());
  if (dynamic()) {
    return;
  }
  job_ = job_kind::init;
  for (auto& spec : spec_.children) {
    queue_start(*find_key(add(std::move(spec))));
  }
  // The entries hold the specs from now on: one copy per child, not two (10,000 children
  // under vigild are megabytes).
  spec_.children = {};
}

bool supervisor_core::child_exited(pid child, const term& reason, time_point now) {
  VIGIL_ASSERT(idle());
  entry* c = find_pid(child);
  if (c == nullptr || exiting_) {
    return c != nullptr;
  }
  if (gate_of(c->key) != nullptr) {
    // It died before it was ready: a failed start, with its exit reason.
    emit(child_event::kind::exited, *c, child, reason);
    clear_running(*c);
    c->state = child_state::stopped;
    fail_gate(c->key, reason, now);
    return true;
  }
  return child_ended(c, child, effective_reason(*c, reason), prevents_restart(*c, reason), now);
}

bool supervisor_core::child_ended(entry* c, pid child, const term& reason, bool final_exit,
                                  time_point now) {
  emit(child_event::kind::exited, *c, child, reason);
  clear_running(*c);
  c->state = child_state::stopped;
  const backoff_policy* b = backoff_of(*c);
  bool stayed_up = now - c->started_at >= (b != nullptr ? b->reset_after : spec_.period);
  if (b != nullptr && stayed_up) {
    c->backoff_count = 0; // it stayed up long enough: the next restart is a first one
  }
  if (stayed_up) {
    c->holds = 0; // a held child that was retried and stayed up is healthy again
  }
  const exit_kind kind = classify(reason);
  if (final_exit || !should_restart(c->spec.restart, kind)) {
    if (final_exit) {
      c->stop_reason = reason_text(reason); // no_restart_exit_codes: it stays stopped, and why
    }
    if (kind == exit_kind::abnormal) {
      // A crash that is not restarted (a temporary child). Ends by :normal or :shutdown
      // are not reports, as in OTP: a dispatcher's request workers end so all day.
      report(*c, child, reason, exit_report::decision::none);
    }
    bool significant = c->spec.significant;
    if (dynamic() || c->spec.restart == restart_type::temporary) {
      erase_key(c->key);
    }
    if (significant) {
      check_auto_shutdown();
    }
    return true;
  }
  if (c->holds > 0) {
    hold(*c, child, reason, now); // retried from failed and died again soon: failed again
    return true;
  }
  begin_restart(c->key, now, child, reason);
  return true;
}

void supervisor_core::timer(time_point now) {
  VIGIL_ASSERT(idle());
  if (exiting_) {
    return;
  }
  if (expire_gates(now)) {
    return; // the driver calls again once the killed child is dead
  }
  // A failed start is tried again as a new restart, so it counts against the intensity and
  // a child that can never start escalates instead of looping (OTP's try_again_restart).
  for (;;) {
    auto due = std::find_if(children_.begin(), children_.end(), [now](const auto& kv) {
      return kv.second.retry && kv.second.restart_at <= now;
    });
    if (due == children_.end()) {
      break;
    }
    due->second.retry = false;
    begin_restart(due->first, now, std::nullopt, term(due->second.reason));
    if (exiting_ || !ops_.empty()) {
      return; // the rest is due still: the driver calls again once these steps ran
    }
  }
  for (auto& [key, c] : children_) {
    if (waiting(c) && c.restart_at <= now) {
      c.from_failed = c.state == child_state::failed;
      const bool was_restarting = c.state == child_state::restarting;
      queue_start(c);
      if (!was_restarting) {
        tell_state(c); // out of backoff or failed: its start is in flight
      }
    }
  }
  if (!ops_.empty()) {
    job_ = job_kind::restart;
  }
}

void supervisor_core::shutdown(term reason) {
  if (exiting_) {
    return;
  }
  exiting_ = true;
  exit_reason_ = std::move(reason);
  for (const auto& g : gates_) {
    if (g.job == job_kind::api_start || g.job == job_kind::api_restart) {
      reply(g.reply_to, vigil::make_tuple(atoms::error, atoms::shutdown));
    }
  }
  gates_.clear(); // their children are running: stopped below
  std::erase_if(ops_, [](const op& o) { return std::holds_alternative<start_op>(o); });
  // Pending async stops end as they are (the driver waits for them before it exits); what
  // they held may not start anything any more, and the calls that waited for them fail.
  for (auto& s : stops_) {
    auto starts =
        std::erase_if(s.held, [](const op& o) { return std::holds_alternative<start_op>(o); });
    if (starts > 0 && (s.job == job_kind::api_start || s.job == job_kind::api_restart)) {
      s.held.emplace_back(reply_step{s.reply_to, vigil::make_tuple(atoms::error, atoms::shutdown)});
    }
    s.job = job_kind::none;
  }
  for (auto& call : deferred_) {
    reply(std::move(call.reply_to), vigil::make_tuple(atoms::error, atoms::shutdown));
  }
  deferred_.clear();
  std::vector<std::uint64_t> running;
  for (auto& [key, c] : children_) {
    c.retry = false;
    c.queued = false;
    if (c.process) {
      running.push_back(key);
    } else if (c.state != child_state::stopped && c.state != child_state::stopping) {
      c.state = child_state::stopped; // its pending restart is dropped
      tell_state(c);
    }
  }
  stop_keys(running);
}

// -- restarts -------------------------------------------------------------------------------

void supervisor_core::emit(child_event::kind what, const entry& c, std::optional<pid> process,
                           term reason) {
  child_event e;
  e.what = what;
  e.path = path_ + "/" + c.spec.id;
  e.id = c.spec.id;
  e.key = c.key;
  e.dynamic = dynamic();
  e.process = process;
  e.type = c.spec.type;
  e.reason = std::move(reason);
  events_.push_back(std::move(e));
}

void supervisor_core::report(const entry& c, std::optional<pid> process, term reason,
                             exit_report::decision what, milliseconds delay) {
  const restart_intensity& window = holding() ? c.window : intensity_;
  exit_report r;
  r.id = c.spec.id;
  r.process = process;
  r.reason = std::move(reason);
  r.restarts = static_cast<std::uint32_t>(window.size());
  r.intensity = spec_.intensity;
  r.period = spec_.period;
  r.what = what;
  r.delay = delay;
  r.retry = what != exit_report::decision::failed || spec_.hold_retry.count() > 0;
  emit(child_event::kind::decided, c, process, r.reason);
  events_.back().report = std::move(r);
}

void supervisor_core::tell_state(const entry& c) {
  emit(child_event::kind::changed, c, std::nullopt);
  events_.back().state = c.state;
  events_.back().due = c.restart_at;
}

void supervisor_core::hold(entry& c, std::optional<pid> process, const term& reason,
                           time_point now) {
  ++c.holds;
  milliseconds delay{0};
  if (spec_.hold_retry.count() > 0) {
    delay = spec_.hold_retry;
    for (std::uint32_t i = 1; i < c.holds && delay < spec_.hold_retry_max; ++i) {
      delay *= 2;
    }
    delay = std::min(delay, std::max(spec_.hold_retry, spec_.hold_retry_max));
  }
  report(c, process, reason, exit_report::decision::failed, delay);
  c.reason = reason_text(reason);
  c.window = restart_intensity(spec_.intensity, spec_.period); // a fresh budget once retried
  c.backoff_count = 0;
  c.retry = false;
  c.from_failed = false;
  if (delay.count() > 0) {
    wait_until(c, child_state::failed, now + delay);
  } else {
    c.state = child_state::failed; // never retried: only an operator or a reload starts it
    c.restart_at = time_point::max();
  }
}

void supervisor_core::begin_restart(std::uint64_t key, time_point now, std::optional<pid> process,
                                    const term& reason) {
  entry* c = find_key(key);
  if (!(holding() ? c->window.record(now) : intensity_.record(now))) {
    if (holding()) {
      hold(*c, process, reason, now); // a failure domain: only this child is held
      return;
    }
    report(*c, process, reason, exit_report::decision::escalate);
    gave_up_ = !exiting_;
    shutdown(atoms::shutdown); // escalate: the parent decides (semantics 23)
    return;
  }
  time_point at = now;
  if (const backoff_policy* b = backoff_of(*c)) {
    double unit = random_ ? random_() : 0.5;
    at = now + backoff_delay(*b, ++c->backoff_count, unit);
  }
  report(*c, process, reason,
         at > now ? exit_report::decision::backoff : exit_report::decision::restart,
         std::chrono::ceil<milliseconds>(at - now));
  restart_group(group_of(*c), at, now, key);
}

void supervisor_core::restart_group(const std::vector<std::uint64_t>& group, time_point at,
                                    time_point now, std::uint64_t decided) {
  std::vector<std::uint64_t> running;
  for (auto key : group) {
    if (entry* e = find_key(key); e != nullptr && e->process) {
      running.push_back(key);
    }
  }
  const std::size_t stop_at = ops_.size();
  stop_keys(running);
  for (auto key : running) {
    if (find_key(key)->spec.restart == restart_type::temporary) {
      erase_key(key); // temporary children are never restarted, not even by a sibling
    }
  }
  // Members still waiting out a delay keep it; starting later members earlier would break
  // the start order.
  // A held sibling keeps its own schedule.
  const time_point told = at;
  for (auto key : group) {
    if (entry* e = find_key(key); e != nullptr && waiting(*e) && e->state != child_state::failed) {
      at = std::max(at, e->restart_at);
    }
  }
  for (auto key : group) {
    entry* e = find_key(key);
    if (e == nullptr || e->queued || e->state == child_state::failed) {
      continue;
    }
    e->retry = false;
    if (at <= now) {
      queue_start(*e);
    } else {
      wait_until(*e, child_state::backoff, at);
    }
    // The siblings it stops learn where they stand with their stop; the others, and the
    // child decided about when a sibling's wait moved its time, are told now.
    bool stopped = std::find(running.begin(), running.end(), key) != running.end();
    if (!stopped && (key != decided || at != told)) {
      tell_state(*e);
    }
  }
  if (!running.empty()) {
    for (auto& t : std::get<stop_step>(ops_[stop_at]).targets) {
      if (const entry* e = find_key(t.key)) {
        t.then = e->state;
        t.due = e->restart_at;
      }
    }
  }
  if (job_ == job_kind::none) {
    job_ = job_kind::restart;
  }
}

void supervisor_core::check_auto_shutdown() {
  switch (spec_.auto_shutdown) {
  case auto_shutdown::never: return;
  case auto_shutdown::any_significant: shutdown(atoms::shutdown); return;
  case auto_shutdown::all_significant: break;
  }
  bool left = std::any_of(children_.begin(), children_.end(), [](const auto& kv) {
    return kv.second.spec.significant && kv.second.state != child_state::stopped;
  });
  if (!left) {
    shutdown(atoms::shutdown);
  }
}

// -- steps ----------------------------------------------------------------------------------

std::optional<step> supervisor_core::next() {
  VIGIL_ASSERT(awaiting_ == 0);
  while (!ops_.empty() || release_deferred()) {
    op o = std::move(ops_.front());
    ops_.pop_front();
    if (auto* s = std::get_if<start_op>(&o)) {
      entry* c = find_key(s->key);
      if (c == nullptr || !c->queued || c->process) {
        continue;
      }
      c->queued = false;
      awaiting_ = s->key;
      return start_step{s->key, &c->spec};
    }
    if (auto* stop = std::get_if<stop_step>(&o)) {
      if (stop->async && !exiting_ && stop->targets.size() == 1) {
        // The rest of the job waits for the child's death (child_stopped); the supervisor
        // is idle meanwhile.
        const stop_target& t = stop->targets.front();
        if (entry* c = find_key(t.key)) {
          c->state = child_state::stopping;
          emit(child_event::kind::changed, *c, t.child);
          events_.back().state = child_state::stopping;
        }
        stops_.push_back(stopping{t, job_, std::move(reply_to_), std::exchange(ops_, {})});
        job_ = job_kind::none;
        return std::move(*stop);
      }
      stop->async = false;
      for (const auto& t : stop->targets) {
        tell_stopped(t, t.then,
                     t.shutdown.how == shutdown_policy::kind::brutal_kill ? term(atoms::kill)
                                                                          : term(atoms::shutdown));
      }
      return std::move(*stop);
    }
    if (auto* forget = std::get_if<forget_op>(&o)) {
      erase_key(forget->key);
      continue;
    }
    if (auto* failed = std::get_if<not_ready_op>(&o)) {
      fail_gate(failed->key, failed->reason, failed->at); // killed by now: decide
      continue;
    }
    return std::move(std::get<reply_step>(o));
  }
  job_ = job_kind::none;
  if (exiting_ && gave_up_ && !told_gave_up_ && stops_.empty()) {
    told_gave_up_ = true; // told last, once its children are stopped
    child_event e;
    e.what = child_event::kind::gave_up;
    e.path = path_;
    e.type = child_type::supervisor;
    e.reason = exit_reason_;
    events_.push_back(std::move(e));
  }
  return std::nullopt;
}

void supervisor_core::start_result(result<pid> started, time_point now) {
  VIGIL_ASSERT(awaiting_ != 0);
  entry* c = find_key(std::exchange(awaiting_, 0));
  VIGIL_ASSERT(c != nullptr);
  if (!started) {
    start_failed(*c, started.error(), now);
    return;
  }
  set_running(*c, *started);
  c->started_at = now;
  emit(child_event::kind::started, *c, *started);
  events_.back().spec = &c->spec;
  c->from_failed = false;
  if (open_gate(*c, *started, now)) {
    return; // the rest of the job waits until it is ready
  }
  if (job_ == job_kind::api_start || job_ == job_kind::api_restart) {
    reply(reply_to_, vigil::make_tuple(atoms::ok, *started));
  }
}

void supervisor_core::start_failed(entry& c, const error& why, time_point now) {
  term reason(why.context.empty() ? why.code.message() : why.context);
  switch (job_) {
  case job_kind::init:
    if (holding()) {
      hold(c, std::nullopt, reason, now); // the others start all the same
      return;
    }
    fail_init(c, why);
    return;
  case job_kind::api_start:
    reply(reply_to_, vigil::make_tuple(atoms::error, reason));
    if (holding() && !dynamic()) {
      hold(c, std::nullopt, reason, now); // it stays in the tree, failed, with its reason
    } else {
      erase_key(c.key);
    }
    return;
  case job_kind::api_restart:
    reply(reply_to_, vigil::make_tuple(atoms::error, reason));
    if (holding()) {
      hold(c, std::nullopt, reason, now);
    } else {
      c.state = child_state::stopped;
    }
    return;
  case job_kind::restart:
  case job_kind::none: break;
  }
  if (c.from_failed) {
    hold(c, std::nullopt, reason, now); // its retry failed: failed again, a longer wait
    return;
  }
  c.reason = reason_text(reason);
  // The rest of this restart waits for the retry, which restarts the group again.
  for (const auto& o : ops_) {
    if (const auto* s = std::get_if<start_op>(&o)) {
      if (entry* e = find_key(s->key)) {
        e->queued = false;
        wait_until(*e, child_state::restarting, now);
      }
    }
  }
  std::erase_if(ops_, [](const op& o) { return std::holds_alternative<start_op>(o); });
  wait_until(c, child_state::restarting, now);
  c.retry = true;
  tell_state(c); // it may have waited in backoff; the timer's retry decides on it next
}

void supervisor_core::fail_init(const entry& c, const error& why) {
  std::string text = why.context.empty() ? why.code.message() : why.context;
  start_error_ = error{why.code, "failed to start child '" + c.spec.id + "': " + text};
  shutdown(vigil::make_tuple(atoms::shutdown,
                             vigil::make_tuple(a_failed_to_start_child, c.spec.id, text)));
}

} // namespace vigil::supervision
