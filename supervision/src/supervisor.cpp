// SPDX-License-Identifier: Apache-2.0
// The supervisor process: it feeds its mailbox to a supervisor_core and carries out the
// steps the core returns. Everything it decides is the core's; see core.cpp.
#include "vigil/supervision/supervisor.hpp"

#include "vigil/supervision/protocol.hpp"
#include "vigil/supervision/readiness.hpp"
#include "vigil/supervision/restart.hpp"
#include "vigil/supervision/spec_term.hpp"

#include "driver.hpp"
#include "helper.hpp"

#include <array>
#include <chrono>
#include <random>

namespace vigil::supervision {
namespace {

using steady = std::chrono::steady_clock;

const atom a_supervisor_report("supervisor_report");

/// What a running supervisor holds: its frame keeps it, so the core's random source may
/// point at `rng`.
struct sup_state {
  context& self;
  supervisor_boot boot;
  std::mt19937_64 rng;
  supervisor_core core;
  std::vector<detail::pending_stop> stopping; ///< async stops under way

  sup_state(context& s, supervisor_boot b)
      : self(s), boot(std::move(b)),
        rng(static_cast<std::uint64_t>(steady::now().time_since_epoch().count())
            ^ (std::uint64_t{s.self().index} << 32U) ^ s.self().serial),
        core(
            *boot.spec, [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); },
            boot.path ? *boot.path : std::string("root")) {
    boot.spec.reset(); // the core has its copy; a second one per child would stay for nothing
  }
};

task<result<pid>> start_nested(sup_state& s, const child_spec& spec) {
  co_return co_await detail::start_for(
      s.self, *spec.supervisor, s.boot.factory, s.self.self(), registered_name(spec), s.boot.events,
      std::make_shared<const std::string>(s.core.path() + "/" + spec.id));
}

/// Hands the core's events to the sink, in order. `stopped` carries the reason each child
/// died with, when the stop step just carried out says it.
void tell_events(sup_state& s, const std::vector<term>* stop_reasons = nullptr,
                 const std::vector<pid>* stopped = nullptr) {
  auto events = s.core.take_events();
  if (!s.boot.events) {
    return;
  }
  for (auto& e : events) {
    e.supervisor = s.self.self();
    if (e.what == child_event::kind::stopped && stop_reasons != nullptr && e.process) {
      for (std::size_t i = 0; i < stopped->size() && i < stop_reasons->size(); ++i) {
        if ((*stopped)[i] == *e.process) {
          e.reason = (*stop_reasons)[i];
          break;
        }
      }
    }
    s.boot.events(e);
  }
}

/// Runs the core's steps until it is idle.
task<> run_steps(sup_state& s) {
  tell_events(s); // an exit's decision, before the steps that carry it out
  while (auto st = s.core.next()) {
    if (auto* start = std::get_if<start_step>(&*st)) {
      const child_spec& spec = *start->spec;
      if (spec.type == child_type::supervisor) {
        auto started = co_await start_nested(s, spec);
        s.core.start_result(std::move(started), steady::now());
      } else {
        auto started = s.boot.factory(s.self, spec);
        if (started && *started == pid{}) {
          // A child with no pid would never send its EXIT: treat it as a failed start.
          started = error{make_error_code(errc::invalid_argument), "the factory returned no pid"};
        }
        s.core.start_result(std::move(started), steady::now());
      }
    } else if (auto* stop = std::get_if<stop_step>(&*st); stop != nullptr && stop->async) {
      detail::begin_stop(s.self, *stop, s.stopping); // its DOWN comes through the mailbox
    } else if (stop != nullptr) {
      std::vector<pid> stopped;
      stopped.reserve(stop->targets.size());
      for (const auto& t : stop->targets) {
        stopped.push_back(t.child);
      }
      auto reasons = co_await detail::stop_children(s.self, std::move(*stop));
      tell_events(s, &reasons, &stopped);
      continue;
    } else {
      const auto& r = std::get<reply_step>(*st);
      s.self.send(r.to[0].as_pid(), vigil::make_tuple(r.to[1], r.value));
    }
    tell_events(s);
  }
  tell_events(s); // a supervisor that gives up says so last
}

bool is_exit(const term& m) {
  return m.is_tuple() && m.size() == 3 && m[0].is(atoms::exit) && m[1].is_pid();
}

bool is_call(const term& m) {
  return m.is_tuple() && m.size() == 4 && m[0].is(protocol::call_tag()) && m[1].is_pid()
         && m[2].is_reference();
}

void dispatch(sup_state& s, const term& m, steady::time_point now) {
  if (is_exit(m)) {
    pid from = m[1].as_pid();
    if (!s.core.child_exited(from, m[2], now) && s.boot.parent == from) {
      s.core.shutdown(m[2]); // the parent's exit takes the tree down with the same reason
    }
    return;
  }
  if (auto said = decode_readiness(m)) {
    if (said->ready) {
      (void)s.core.child_ready(said->child, term(said->text), now);
    } else {
      (void)s.core.child_waiting(said->child, std::move(said->text));
    }
    return;
  }
  if (!is_call(m)) {
    return; // OTP logs an unexpected message and carries on
  }
  const term& req = m[3];
  if (req.is_tuple() && req.size() == 2 && req[0].is(protocol::stop_tag())) {
    s.core.shutdown(req[1]);
    return;
  }
  term reply_to = vigil::make_tuple(m[1], m[2]);
  auto decoded = protocol::decode(req);
  if (!decoded) {
    s.self.send(m[1].as_pid(),
                vigil::make_tuple(m[2], vigil::make_tuple(atoms::error, atoms::badarg)));
    return;
  }
  s.core.handle(*decoded, reply_to, now);
}

/// The child of a pending async stop is dead: the core goes on with what the stop held.
task<> stopped(sup_state& s, const detail::pending_stop& p, const term& reason) {
  co_await detail::unlink_flush(s.self, p.child);
  (void)s.core.child_stopped(p.child, reason, steady::now());
  co_await run_steps(s);
}

/// The receive timeout until the core's next restart is due, or a pending stop's kill.
timeout until_due(const sup_state& s, steady::time_point now) {
  auto due = s.core.next_deadline();
  if (auto kill = detail::next_kill(s.stopping); kill && (!due || *kill < *due)) {
    due = kill;
  }
  if (!due) {
    return infinity;
  }
  return *due <= now ? timeout::zero() : std::chrono::ceil<timeout>(*due - now);
}

/// Serves the mailbox until the supervisor exits, or with `until_started` until its
/// initial start is over (every child it started is ready, docs/readiness.md).
task<> serve(sup_state& s, bool until_started = false) {
  for (;;) {
    if (until_started && !s.core.initializing()) {
      co_return;
    }
    auto m = co_await s.self.receive(until_due(s, steady::now()));
    auto now = steady::now();
    if (m) {
      if (auto p = detail::take_down(m.message, s.stopping)) {
        co_await stopped(s, *p, m.message[4]);
      } else {
        dispatch(s, m.message, now);
        co_await run_steps(s);
      }
    }
    detail::kill_overdue(s.self, s.stopping, now);
    // One timer turn per message at most: a retry loop leaves room for a stop request
    // (OTP's try_again_restart goes through the mailbox for the same reason).
    auto due = s.core.next_deadline();
    if (!s.core.exiting() && due && *due <= now) {
      s.core.timer(now);
      co_await run_steps(s);
    }
    if (s.core.exiting()) {
      co_return;
    }
  }
}

/// The supervisor exits: its pending async stops end first (semantics 23: it exits only
/// once its children are dead), and their replies go out.
task<> finish_stops(sup_state& s) {
  while (!s.stopping.empty()) {
    timeout wait = infinity; // the core's restarts are dropped: only kills are due
    if (auto kill = detail::next_kill(s.stopping)) {
      auto left = std::chrono::ceil<timeout>(*kill - steady::now());
      wait = std::max(left, timeout::zero());
    }
    auto m = co_await s.self.receive_if(
        [&s](const term& t) { return detail::is_pending_down(t, s.stopping); }, wait);
    if (m) {
      auto p = detail::take_down(m.message, s.stopping);
      co_await stopped(s, *p, m.message[4]);
    }
    detail::kill_overdue(s.self, s.stopping, steady::now());
  }
}

void ack(context& self, const supervisor_boot& boot, term value) {
  self.send(boot.starter, vigil::make_tuple(boot.ack, std::move(value)));
}

term error_reply(const error& e) {
  return vigil::make_tuple(atoms::error, protocol::encode_error(e));
}

} // namespace

atom report_name() {
  static const atom name("vigil_supervisor_reports");
  return name;
}

task<> supervisor_process(context& self, supervisor_boot boot) {
  self.trap_exit(true);
  if (boot.parent) {
    (void)self.link(*boot.parent); // a dead parent shows up as {:EXIT, parent, :noproc}
  }
  sup_state s(self, std::move(boot));
  s.core.start(steady::now());
  co_await run_steps(s);
  if (!s.core.exiting() && s.core.initializing()) {
    co_await serve(s, true); // a child is not ready yet: its start is not over, nor ours
  }
  if (s.core.exiting()) {
    // Unlinked first, so that the starter gets the error instead of an exit signal.
    if (s.boot.parent) {
      self.unlink(*s.boot.parent);
    }
    auto why = s.core.start_error().value_or(
        error{make_error_code(errc::invalid_argument), "supervisor stopped while starting"});
    co_await finish_stops(s);
    ack(self, s.boot, error_reply(why));
    co_await self.exit(s.core.exit_reason());
  }
  ack(self, s.boot, atoms::ok);
  co_await serve(s);
  co_await finish_stops(s);
  if (s.core.gave_up()) {
    (void)self.send(report_name(),
                    vigil::make_tuple(a_supervisor_report, self.self(), s.core.exit_reason()));
  }
  co_await self.exit(s.core.exit_reason());
}

namespace detail {

task<result<pid>> start_for(context& self, supervisor_spec spec, child_factory factory,
                            std::optional<pid> parent, std::optional<atom> name, event_sink events,
                            std::shared_ptr<const std::string> path) {
  if (auto valid = validate(spec); !valid) {
    co_return valid.error();
  }
  supervisor_boot boot{std::make_shared<const supervisor_spec>(std::move(spec)),
                       std::move(factory),
                       self.self(),
                       self.make_ref(),
                       parent,
                       std::move(events),
                       std::move(path)};
  reference ack_ref = boot.ack;
  spawn_options options{.name = name, .trap_exit = true, .initial_call = "vigil:supervisor/1"};
  auto sup = self.spawn_opt(options, supervisor_process, std::move(boot));
  if (!sup) {
    co_return error{make_error_code(errc::already_exists),
                    "cannot start supervisor: name :" + std::string(name ? name->name() : "")
                        + " is taken, or the process table is full"};
  }
  reference watch = self.monitor(*sup);
  const std::array<pattern, 2> clauses{pattern::tuple({term(ack_ref), pattern::bind("result")}),
                                       pattern::tuple({atoms::down, term(watch), pattern::any(),
                                                       pattern::any(), pattern::bind("reason")})};
  auto r = co_await self.receive(std::span<const pattern>(clauses));
  if (r.clause == 0) {
    self.demonitor(watch, true);
    if (r[0].is(atoms::ok)) {
      co_return *sup;
    }
    co_return protocol::decode_error(r[0][1]);
  }
  // It died before it answered: killed, or its parent link failed. Its EXIT, if linked
  // to us, came before the DOWN.
  const auto exit_message = pattern::tuple({atoms::exit, term(*sup), pattern::any()});
  (void)co_await self.receive(exit_message, timeout::zero());
  co_return error{make_error_code(errc::invalid_argument),
                  "supervisor died while starting: " + to_string(r[0])};
}

} // namespace detail

task<result<pid>> start_supervisor(context& self, supervisor_spec spec, child_factory factory,
                                   start_options options) {
  std::optional<pid> parent;
  if (options.link) {
    parent = self.self();
  }
  return detail::start_for(self, std::move(spec), std::move(factory), parent, options.name,
                           std::move(options.events), std::move(options.path));
}

result<pid> start_supervisor(mailbox& caller, supervisor_spec spec, child_factory factory,
                             start_options options) {
  std::optional<pid> parent;
  if (options.link) {
    parent = caller.self();
  }
  return detail::run_helper<pid>(caller, [spec = std::move(spec), factory = std::move(factory),
                                          parent, name = options.name,
                                          events = std::move(options.events),
                                          path = std::move(options.path)](context& self) mutable {
    return detail::start_for(self, std::move(spec), std::move(factory), parent, name,
                             std::move(events), std::move(path));
  });
}

} // namespace vigil::supervision
