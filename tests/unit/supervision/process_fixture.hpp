// SPDX-License-Identifier: Apache-2.0
#pragma once

// Supervisors on the real runtime. Test children report to the test's mailbox, so every
// wait is for an event ({:started, id, pid}, a DOWN), never a sleep. Timeouts are tiny
// (20 ms) where a test needs one to pass.

#include "vigil/supervision/client.hpp"
#include "vigil/supervision/spec_term.hpp"
#include "vigil/supervision/supervisor.hpp"

#include "../runtime/runtime_fixture.hpp"
#include "core_fixture.hpp"

#include <string>

namespace vigil::supervision::test {

using vigil::test::runtime_test;

/// A test child, by `kind`:
///   worker   reports {:started, id, pid}; {:crash, reason} makes it exit with reason
///   trapper  a worker that traps exits and reports {:stopping, id} before it stops
///   stubborn traps exits and ignores them: only :kill ends it
///   naughty  stubborn, and unlinks itself from its supervisor
///   crasher  exits with :boom right after it reported its start
/// A child whose args hold a name registers under it first.
inline task<> test_child(context& self, pid observer, std::string id, std::string kind,
                         std::optional<atom> name) {
  if (name) {
    (void)self.runtime().register_name(*name, self.self());
  }
  bool traps = kind == "trapper" || kind == "stubborn" || kind == "naughty";
  self.trap_exit(traps);
  if (kind == "naughty") {
    for (pid p : self.info().links) {
      self.unlink(p);
    }
  }
  self.send(observer, vigil::make_tuple(atom("started"), id, self.self()));
  if (kind == "crasher") {
    co_await self.exit(atom("boom"));
  }
  for (;;) {
    auto m = co_await self.receive();
    const term& msg = m.message;
    if (msg.is_tuple() && msg.size() == 2 && msg[0].is(atom("crash"))) {
      co_await self.exit(msg[1]);
    }
    if (kind == "trapper" && msg.is_tuple() && msg.size() == 3 && msg[0].is(atoms::exit)) {
      self.send(observer, vigil::make_tuple(atom("stopping"), id));
      co_await self.exit(msg[2]);
    }
  }
}

/// Spawns test children linked to the supervisor; kind "broken" fails to start.
inline child_factory test_factory(pid observer) {
  return [observer](context& sup, const child_spec& spec) -> result<pid> {
    if (spec.kind == "broken") {
      return error{make_error_code(errc::invalid_argument), "broken on purpose"};
    }
    pid p = sup.spawn_link(test_child, observer, spec.id, spec.kind, registered_name(spec));
    if (p == pid{}) {
      return error{make_error_code(errc::limit_exceeded), "spawn failed"};
    }
    return p;
  };
}

inline child_spec child(std::string id, std::string kind = "worker",
                        restart_type restart = restart_type::permanent) {
  auto c = worker(std::move(id), restart);
  c.kind = std::move(kind);
  c.shutdown = shutdown_policy::after(1000ms);
  return c;
}

inline child_spec nested(std::string id, supervisor_spec spec) {
  child_spec c;
  c.id = std::move(id);
  c.type = child_type::supervisor;
  c.shutdown = shutdown_policy::infinity();
  c.supervisor = std::make_shared<const supervisor_spec>(std::move(spec));
  return c;
}

class supervisor_test : public runtime_test {
public:
  /// Starts a root supervisor (not linked to the test's mailbox) or fails the test.
  pid start_root(supervisor_spec spec) {
    auto sup = start_supervisor(*box, std::move(spec), test_factory(me()), {.link = false});
    EXPECT_TRUE(sup) << (sup ? "" : sup.error().message());
    return sup ? *sup : pid{};
  }

  /// Starts `spec` under a parent process that traps exits and forwards its EXIT messages
  /// to the test, so that a test sees the supervisor's exit even if it comes at once.
  pid start_under_parent(supervisor_spec spec) {
    pid observer = me();
    rt.spawn([observer, spec](context& self) -> task<> {
      self.trap_exit(true);
      auto sup = co_await start_supervisor(self, spec, test_factory(observer));
      self.send(observer, vigil::make_tuple(atom("sup"), sup ? term(*sup) : term(atoms::error)));
      for (;;) {
        auto m = co_await self.receive();
        self.send(observer, m.message);
      }
    });
    auto r = next("{:sup, s}");
    return r && r[0].is_pid() ? r[0].as_pid() : pid{};
  }

  /// Waits for child `id` to report its start; returns its pid.
  pid started(const std::string& id) {
    auto p = pattern::tuple({atom("started"), term(id), pattern::bind("pid")});
    auto r = box->receive(p, guard);
    EXPECT_TRUE(r) << "child " << id << " did not start";
    return r ? r[0].as_pid() : pid{};
  }

  /// Monitors `p` and returns the reason of its DOWN.
  term down_reason(pid p) {
    reference ref = box->ctx().monitor(p);
    auto down = box->receive(pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(),
                                             pattern::bind("reason")}),
                             guard);
    EXPECT_TRUE(down) << "no DOWN";
    return down ? down[0] : term();
  }

  /// Kills `p` and waits for its DOWN. A dying process sends its EXIT to its links before
  /// its DOWN to its monitors, so a call made after this reaches the supervisor after the
  /// child's EXIT did.
  void kill_and_wait(pid p) {
    reference ref = box->ctx().monitor(p);
    rt.exit(p, atoms::kill);
    auto down = box->receive(
        pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(), pattern::any()}),
        guard);
    EXPECT_TRUE(down) << "no DOWN";
  }

  std::vector<child_info> children(pid sup) {
    auto rows = which_children(*box, sup);
    EXPECT_TRUE(rows) << (rows ? "" : rows.error().message());
    return rows ? *rows : std::vector<child_info>{};
  }
};

} // namespace vigil::supervision::test
