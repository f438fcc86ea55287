// SPDX-License-Identifier: Apache-2.0
#pragma once

// A fake clock and a fake child driver for supervisor_core: no processes, no sleeps. Every
// step the core asks for is logged as text ("start a", "stop c,b", "start! b" for a start
// that failed, "stop~ a" for an async stop), so a test states the exact order of starts and
// stops. An async stop ends at once unless `hold_stops` is set: then it stays pending
// until the test calls `stopped`.

#include "vigil/supervision/core.hpp"
#include "vigil/supervision/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace vigil::supervision::test {

using namespace std::chrono_literals;

inline child_spec worker(std::string id, restart_type restart = restart_type::permanent) {
  child_spec c;
  c.id = std::move(id);
  c.restart = restart;
  c.kind = "test";
  return c;
}

inline supervisor_spec make_spec(strategy how, std::vector<child_spec> children,
                                 std::uint32_t intensity = 3, milliseconds period = 5s) {
  supervisor_spec s;
  s.name = "sup";
  s.how = how;
  s.intensity = intensity;
  s.period = period;
  s.children = std::move(children);
  return s;
}

inline backoff_policy backoff(milliseconds initial, milliseconds max, double multiplier = 2.0,
                              milliseconds reset_after = 10s) {
  return backoff_policy{initial, max, multiplier, 0.0, reset_after};
}

class core_test : public ::testing::Test {
public:
  time_point now{};                    ///< the fake clock
  std::vector<std::string> log;        ///< steps, as text
  std::vector<term> replies;           ///< reply values, in order
  std::map<std::string, int> failures; ///< id -> starts that fail before one succeeds
  std::map<std::string, pid> pids;     ///< id -> current pid
  std::map<pid, std::string> owners;   ///< pid -> id
  std::uint32_t next_index = 100;
  std::optional<supervisor_core> uut;
  bool hold_stops = false;         ///< async stops stay pending until `stopped`
  std::vector<pid> stops_pending;  ///< async stops not over, in order
  std::map<pid, term> stop_reason; ///< what an async stop's DOWN says, by pid

  void make(supervisor_spec spec, supervisor_core::random_source random = {}) {
    uut.emplace(std::move(spec), std::move(random));
  }

  void start() {
    uut->start(now);
    drive();
  }

  /// Carries out every step, as a driver would.
  void drive() {
    while (auto st = uut->next()) {
      if (auto* s = std::get_if<start_step>(&*st)) {
        run_start(s->spec->id);
      } else if (auto* stop = std::get_if<stop_step>(&*st)) {
        std::string line = stop->async ? "stop~ " : stop->concurrently ? "stop* " : "stop ";
        for (std::size_t i = 0; i < stop->targets.size(); ++i) {
          line += (i != 0 ? "," : "") + owners[stop->targets[i].child];
        }
        log.push_back(line);
        if (stop->async) {
          for (const auto& t : stop->targets) {
            stops_pending.push_back(t.child);
            stop_reason[t.child] = t.shutdown.how == shutdown_policy::kind::brutal_kill
                                       ? term(atoms::kill)
                                       : term(atoms::shutdown);
          }
          if (!hold_stops) {
            finish_stops();
            return;
          }
        }
      } else {
        replies.push_back(std::get<reply_step>(*st).value);
      }
    }
  }

  /// Every pending async stop ends, oldest first (the core may start more of them).
  void finish_stops() {
    while (!stops_pending.empty()) {
      pid p = stops_pending.front();
      stops_pending.erase(stops_pending.begin());
      EXPECT_TRUE(uut->child_stopped(p, stop_reason[p], now));
      drive();
    }
  }

  /// The pending async stop of `id`'s process `p` ends: the child is dead now.
  void stopped(pid p) {
    auto it = std::find(stops_pending.begin(), stops_pending.end(), p);
    ASSERT_NE(it, stops_pending.end()) << "no async stop pending";
    stops_pending.erase(it);
    EXPECT_TRUE(uut->child_stopped(p, stop_reason[p], now));
    drive();
  }

  /// The child `id` exits with `reason` at the current time.
  void exit(const std::string& id, term reason = atom("crash")) {
    ASSERT_TRUE(pids.count(id)) << id;
    EXPECT_TRUE(uut->child_exited(pids[id], reason, now)) << id;
    drive();
  }

  /// Moves the clock and runs the timer while restarts are due, as the driver's loop does.
  void advance(milliseconds d) {
    now += d;
    for (int turns = 0; turns < 1000; ++turns) {
      auto due = uut->next_deadline();
      if (uut->exiting() || !due || *due > now) {
        return;
      }
      uut->timer(now);
      drive();
    }
    ADD_FAILURE() << "the timer does not settle";
  }

  void call(request req) {
    uut->handle(req, term(atom("tag")), now);
    drive();
  }

  /// The log so far, cleared.
  std::vector<std::string> take() { return std::exchange(log, {}); }

  /// The decisions since the last call, as their `decided` events tell them, oldest first.
  std::vector<exit_report> decisions() {
    std::vector<exit_report> out;
    for (auto& e : uut->take_events()) {
      if (e.what == child_event::kind::decided) {
        out.push_back(std::move(e.report));
      }
    }
    return out;
  }

  [[nodiscard]] child_state state_of(const std::string& id) const {
    for (const auto& c : uut->which_children(now)) {
      if (c.id == id) {
        return c.state;
      }
    }
    ADD_FAILURE() << "no child " << id;
    return child_state::stopped;
  }

  [[nodiscard]] std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& c : uut->which_children(now)) {
      out.push_back(c.id);
    }
    return out;
  }

private:
  void run_start(const std::string& id) {
    if (auto it = failures.find(id); it != failures.end() && it->second > 0) {
      --it->second;
      log.push_back("start! " + id);
      uut->start_result(error{make_error_code(errc::invalid_argument), "no " + id}, now);
      return;
    }
    pid p{0, next_index++, 1};
    pids[id] = p;
    owners[p] = id;
    log.push_back("start " + id);
    uut->start_result(p, now);
  }
};

using steps = std::vector<std::string>;

} // namespace vigil::supervision::test
