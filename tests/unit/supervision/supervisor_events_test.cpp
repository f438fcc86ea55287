// SPDX-License-Identifier: Apache-2.0
// A tree's events on the real runtime: every supervisor tells its children's starts, exits,
// decisions and stops to the sink it was started with, nested ones under their own path,
// each before it acts on its next message, so that an exit is told before the supervisor
// itself can exit.
#include "process_fixture.hpp"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace vigil::supervision::test {
namespace {

using TreeEvents = supervisor_test;

/// What a sink was told, as "kind path", shared with the supervisors' threads.
class recorder : public std::enable_shared_from_this<recorder> {
public:
  /// The sink keeps the recorder: a tree a failed test left running may still tell it.
  event_sink sink() {
    return [self = shared_from_this()](const child_event& e) {
      std::lock_guard lock(self->mutex_);
      self->told_.push_back(name(e.what) + " " + e.path);
      if (e.what == child_event::kind::started) {
        self->pids_[e.path] = *e.process;
      }
      self->changed_.notify_all();
    };
  }

  /// Waits until `line` was told `times` times (or 10 s); the lines told so far.
  std::vector<std::string> until(const std::string& line, std::ptrdiff_t times = 1) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10),
                      [&] { return std::count(told_.begin(), told_.end(), line) >= times; });
    return told_;
  }

  std::vector<std::string> told() {
    std::lock_guard lock(mutex_);
    return told_;
  }

  pid pid_of(const std::string& path) {
    std::lock_guard lock(mutex_);
    return pids_[path];
  }

private:
  static std::string name(child_event::kind k) {
    switch (k) {
    case child_event::kind::started: return "started";
    case child_event::kind::exited: return "exited";
    case child_event::kind::decided: return "decided";
    case child_event::kind::stopped: return "stopped";
    case child_event::kind::gave_up: return "gave_up";
    case child_event::kind::removed: return "removed";
    case child_event::kind::changed: return "changed";
    case child_event::kind::updated: return "updated";
    case child_event::kind::ready: return "ready";
    case child_event::kind::waiting: return "waiting";
    }
    return "?";
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> told_;
  std::map<std::string, pid> pids_;
};

std::ptrdiff_t index_of(const std::vector<std::string>& lines, const std::string& line) {
  auto it = std::find(lines.begin(), lines.end(), line);
  return it == lines.end() ? -1 : it - lines.begin();
}

TEST_F(TreeEvents, NestedSupervisorsTellTheirChildrenUnderTheirOwnPath) {
  auto r = std::make_shared<recorder>();
  auto jobs = make_spec(strategy::one_for_one, {child("x")});
  auto sup =
      start_supervisor(*box, make_spec(strategy::one_for_one, {child("a"), nested("jobs", jobs)}),
                       test_factory(me()), {.link = false, .events = r->sink()});
  ASSERT_TRUE(sup);
  // Told before start_supervisor returned: the tree is known once it is up.
  auto told = r->told();
  EXPECT_EQ(told, (std::vector<std::string>{"started root/a", "started root/jobs/x",
                                            "started root/jobs"}));
  EXPECT_EQ(r->pid_of("root/jobs/x"), started("x"));
  ASSERT_TRUE(stop_supervisor(*box, *sup));
}

TEST_F(TreeEvents, ARootGivenAPathNamesItsChildrenUnderIt) {
  auto r = std::make_shared<recorder>();
  auto sup = start_supervisor(
      *box, make_spec(strategy::one_for_one, {child("a")}), test_factory(me()),
      {.link = false, .events = r->sink(), .path = std::make_shared<const std::string>("t")});
  ASSERT_TRUE(sup);
  EXPECT_EQ(r->told(), (std::vector<std::string>{"started t/a"}));
  ASSERT_TRUE(stop_supervisor(*box, *sup));
}

TEST_F(TreeEvents, AKilledChildIsToldAsExitedThenDecidedThenStartedAgain) {
  auto r = std::make_shared<recorder>();
  auto jobs = make_spec(strategy::one_for_one, {child("x")});
  auto sup = start_supervisor(*box, make_spec(strategy::one_for_one, {nested("jobs", jobs)}),
                              test_factory(me()), {.link = false, .events = r->sink()});
  ASSERT_TRUE(sup);
  pid x = started("x");
  rt.exit(x, atoms::kill);
  pid x2 = started("x");
  auto told = r->until("started root/jobs/x", 2);
  auto exited = index_of(told, "exited root/jobs/x");
  auto decided = index_of(told, "decided root/jobs/x");
  ASSERT_GE(exited, 0);
  EXPECT_GT(decided, exited);
  EXPECT_EQ(told.back(), "started root/jobs/x");
  EXPECT_EQ(r->pid_of("root/jobs/x"), x2);
  ASSERT_TRUE(stop_supervisor(*box, *sup));
}

TEST_F(TreeEvents, EveryStopIsToldBeforeTheStoppedSupervisorExits) {
  auto r = std::make_shared<recorder>();
  auto jobs = make_spec(strategy::one_for_one, {child("x"), child("y")});
  auto sup =
      start_supervisor(*box, make_spec(strategy::one_for_one, {child("a"), nested("jobs", jobs)}),
                       test_factory(me()), {.link = false, .events = r->sink()});
  ASSERT_TRUE(sup);
  ASSERT_TRUE(stop_supervisor(*box, *sup));
  // stop_supervisor returned once the root was gone: everything was told by then.
  auto told = r->told();
  for (const char* line :
       {"stopped root/jobs/y", "stopped root/jobs/x", "stopped root/jobs", "stopped root/a"}) {
    EXPECT_GE(index_of(told, line), 0) << line;
  }
  EXPECT_LT(index_of(told, "stopped root/jobs/x"), index_of(told, "stopped root/jobs"))
      << "a nested supervisor's children are stopped before it is";
  EXPECT_LT(index_of(told, "stopped root/jobs"), index_of(told, "stopped root/a"))
      << "in reverse start order";
}

TEST_F(TreeEvents, ANestedSupervisorThatGivesUpSaysSoBeforeItsParentToldItsExit) {
  auto r = std::make_shared<recorder>();
  auto inner = make_spec(strategy::one_for_one, {child("w")}, 0);
  auto sup = start_supervisor(*box, make_spec(strategy::one_for_one, {nested("inner", inner)}, 5),
                              test_factory(me()), {.link = false, .events = r->sink()});
  ASSERT_TRUE(sup);
  pid w = started("w");
  rt.exit(w, atoms::kill);
  started("w");
  auto told = r->until("started root/inner", 2);
  auto gave_up = index_of(told, "gave_up root/inner");
  auto exited = index_of(told, "exited root/inner");
  ASSERT_GE(gave_up, 0);
  EXPECT_GT(exited, gave_up);
  EXPECT_GT(index_of(told, "decided root/inner"), exited) << "its parent restarts it";
  ASSERT_TRUE(stop_supervisor(*box, *sup));
}

} // namespace
} // namespace vigil::supervision::test
