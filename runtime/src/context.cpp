// SPDX-License-Identifier: Apache-2.0
// What a process does through its context: matchers, send, selective receive (and sleep, a
// receive that matches nothing), yield and exit, spawn, links, monitors, trap_exit, refs,
// info, and blocking work run on the pool while the process waits.
#include "vigil/runtime/context.hpp"

#include "vigil/runtime/runtime.hpp"

#include "matchers.hpp"
#include "runtime_impl.hpp"

#include <algorithm>

namespace vigil {
namespace {

detail::process& as_process(context& c) {
  return static_cast<detail::process&>(c);
}

const atom nonode("nonode@nohost");

} // namespace

// -- matchers -------------------------------------------------------------------------------

namespace detail {

int match_any(const matcher& /*self*/, const term& /*message*/, bindings& /*out*/) {
  return 0;
}

int match_none(const matcher& /*self*/, const term& /*message*/, bindings& /*out*/) {
  return -1;
}

int match_one(const matcher& self, const term& message, bindings& out) {
  return static_cast<const pattern*>(self.object)->match(message, out) ? 0 : -1;
}

int match_clauses(const matcher& self, const term& message, bindings& out) {
  const auto* first = static_cast<const pattern*>(self.object);
  for (std::size_t i = 0; i < self.count; ++i) {
    if (first[i].match(message, out)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

} // namespace detail

matcher matcher::none() noexcept {
  return {nullptr, 0, &detail::match_none};
}

matcher matcher::of(const pattern& clause) noexcept {
  return {&clause, 1, &detail::match_one};
}

matcher matcher::of(std::span<const pattern> clauses) noexcept {
  return {clauses.data(), clauses.size(), &detail::match_clauses};
}

const term& received::operator[](std::size_t slot) const noexcept {
  static const term nil;
  return slot < bound_ ? values_[slot] : nil;
}

void received::keep(const bindings& b) {
  // Allocate first, so that a throw leaves the previous state whole.
  auto values = b.size() == 0 ? nullptr : std::make_unique<term[]>(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) {
    values[i] = b[i];
  }
  values_ = std::move(values);
  bound_ = b.size();
}

// -- messages -------------------------------------------------------------------------------

void context::send(pid to, term message) const {
  rt_->send_message(to, self_, std::move(message));
}

result<void> context::send(atom name, term message) const {
  auto to = rt_->names.whereis(name);
  if (!to) {
    return error{make_error_code(errc::not_found),
                 "badarg: no process is registered as :" + std::string(name.name())};
  }
  send(*to, std::move(message));
  return {};
}

context::receive_awaiter context::receive(const pattern& clause, timeout after,
                                          std::source_location where) noexcept {
  return {*this, matcher::of(clause), after, where};
}

context::receive_awaiter context::receive(std::span<const pattern> clauses, timeout after,
                                          std::source_location where) noexcept {
  return {*this, matcher::of(clauses), after, where};
}

context::receive_awaiter context::sleep(timeout duration, std::source_location where) noexcept {
  return {*this, matcher::none(), duration, where};
}

bool context::receive_awaiter::await_ready() {
  auto& p = as_process(*self_);
  auto* rt = self_->rt_;
  // receive() with budget left and nothing in the inbox: take the oldest queued message, as
  // a receiver behind a batch does for each one, or find the mailbox empty, as a ring node
  // does before each hop. A path that calls nothing but the free's slow path, last.
  if (match_.test == &detail::match_any && p.turn_reductions < rt->options.reductions_per_turn
      && !p.signals.maybe_nonempty() && p.wait != detail::wait_kind::exiting && result_.timed_out())
      [[likely]] {
    p.scanned_upto = nullptr;
    if (p.mailbox_head == nullptr) {
      return after_ == timeout::zero(); // after 0 polls (10)
    }
    ++p.turn_reductions;
    ++p.reductions;
    rt->take_oldest(&p, *this);
    return true;
  }
  return ready_slow();
}

bool context::receive_awaiter::ready_slow() {
  auto& p = as_process(*self_);
  auto* rt = self_->rt_;
  if (p.turn_reductions >= rt->options.reductions_per_turn) {
    // Out of budget: suspend and let the scheduler finish this receive on a later turn.
    p.yield_requested = true;
    p.scanned_upto = nullptr;
    return false;
  }
  if (p.signals.maybe_nonempty()) {
    rt->drain_into(&p, this);
  }
  if (p.wait == detail::wait_kind::exiting) {
    return false;
  }
  p.scanned_upto = nullptr;
  // drain_into() may have handed over the message already; an empty mailbox needs no scan,
  // and receive() takes the oldest message without one.
  bool got = !result_.timed_out();
  if (!got && p.mailbox_head != nullptr) {
    if (match_.test == &detail::match_any) {
      rt->take_oldest(&p, *this);
      got = true;
    } else {
      got = rt->scan_mailbox(&p, *this);
    }
  }
  if (got) {
    ++p.turn_reductions;
    ++p.reductions;
    return true;
  }
  if (after_ == timeout::zero()) {
    return true; // after 0 polls (10)
  }
  return false;
}

bool context::receive_awaiter::await_suspend(std::coroutine_handle<> waiting) {
  auto& p = as_process(*self_);
  p.resume_point = waiting;
  if (p.wait == detail::wait_kind::exiting) {
    return true;
  }
  p.pending = this;
  p.wait = detail::wait_kind::receive;
  p.current_where = where_; // only `info` of a process waiting in a receive reads it
  // timer_seq is 0 and timer_fired false here: complete_receive and die leave them so.
  if (after_ != infinity && after_ != timeout::zero()) {
    self_->rt_->arm_timer(&p, after_);
  }
  return true;
}

std::vector<term> context::flush() {
  auto& p = as_process(*this);
  rt_->drain(&p);
  std::vector<term> out;
  out.reserve(p.mailbox_len);
  for (auto* s = p.mailbox_head; s != nullptr; s = s->next) {
    out.push_back(std::move(s->payload));
  }
  p.clear_mailbox();
  return out;
}

void context::yield_awaiter::await_suspend(std::coroutine_handle<> waiting) const noexcept {
  auto& p = as_process(*self);
  p.resume_point = waiting;
  p.yield_requested = true;
}

void context::exit_awaiter::await_suspend(std::coroutine_handle<> waiting) noexcept {
  auto& p = as_process(*self);
  p.resume_point = waiting;
  p.exit_reason = std::move(reason);
  p.wait = detail::wait_kind::exiting;
}

// -- processes ------------------------------------------------------------------------------

result<pid> context::spawn_erased(detail::spawn_request& request) {
  return rt_->spawn(&as_process(*this), request);
}

void context::exit(pid target, term reason) const {
  rt_->deliver(target, detail::signal_kind::exit, self_, std::move(reason));
}

result<void> context::link(pid other) {
  auto& p = as_process(*this);
  if (other == self_) {
    return {};
  }
  if (!rt_->alive(other)) {
    if (!p.trapping) {
      return error{make_error_code(errc::not_found), "noproc"};
    }
    auto* s = detail::signal::make(detail::signal_kind::message, other, self_.serial,
                                   term::tuple({atoms::exit, other, atoms::noproc}));
    p.append_message(s);
    return {};
  }
  auto& links = p.rels().links;
  if (std::find(links.begin(), links.end(), other) == links.end()) {
    links.push_back(other);
  }
  rt_->deliver(other, detail::signal_kind::link, self_, term());
  return {};
}

void context::unlink(pid other) {
  auto& p = as_process(*this);
  if (p.rel != nullptr) {
    std::erase(p.rel->links, other);
  }
  rt_->deliver(other, detail::signal_kind::unlink, self_, term());
}

reference context::monitor(pid target) {
  auto& p = as_process(*this);
  reference ref = rt_->make_ref();
  p.rels().monitors.push_back({ref, target});
  rt_->deliver(target, detail::signal_kind::monitor, self_, term(ref));
  return ref;
}

reference context::monitor(atom name) {
  if (auto target = rt_->names.whereis(name)) {
    return monitor(*target);
  }
  auto& p = as_process(*this);
  reference ref = rt_->make_ref();
  p.rels().monitors.push_back({ref, pid{}});
  term who = term::tuple({name, nonode});
  rt_->deliver(self_, detail::signal_kind::down, pid{},
               term::tuple({atoms::down, ref, atoms::process, who, atoms::noproc}));
  return ref;
}

void context::demonitor(reference ref, bool flush_down) {
  auto& p = as_process(*this);
  if (p.rel == nullptr) {
    return;
  }
  auto& monitors = p.rel->monitors;
  auto it = std::find_if(monitors.begin(), monitors.end(),
                         [&](const detail::monitor_entry& m) { return m.ref == ref; });
  if (it != monitors.end()) {
    pid target = it->other;
    monitors.erase(it);
    rt_->deliver(target, detail::signal_kind::demonitor, self_, term(ref));
  }
  if (!flush_down) {
    return;
  }
  rt_->drain(&p); // DOWNs still in the inbox are dropped: the monitor is gone
  for (auto* s = p.mailbox_head; s != nullptr; s = s->next) {
    const term& m = s->payload;
    if (m.is_tuple() && m.size() == 5 && m[0].is(atoms::down) && m[1] == term(ref)) {
      p.unlink_message(s);
      detail::signal::dispose(s);
      break;
    }
  }
  p.scanned_upto = nullptr;
}

bool context::trap_exit(bool on) noexcept {
  auto& p = as_process(*this);
  return std::exchange(p.trapping, on);
}

reference context::make_ref() const noexcept {
  return rt_->make_ref();
}

runtime& context::runtime() const noexcept {
  return rt_->owner;
}

process_info context::info() const {
  return rt_->snapshot(&as_process(const_cast<context&>(*this)));
}

void context::blocking_awaiter_base::await_suspend(std::coroutine_handle<> waiting) {
  auto& p = as_process(*self);
  p.resume_point = waiting;
  p.wait = detail::wait_kind::blocking;
  p.blocking_in_flight = true;
  auto* rt = self->rt_;
  pid me = self->self_;
  blocking_job work = job;
  rt->pool.post([rt, me, work] {
    work.run(work.state);
    rt->deliver(me, detail::signal_kind::resume, pid{}, term());
  });
}

} // namespace vigil
