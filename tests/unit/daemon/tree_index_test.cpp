// SPDX-License-Identifier: Apache-2.0
// The daemon's index of the tree, fed only by supervisor events: each event moves its
// child's entry as the supervisor's own state moves (running, restarting, backoff, failed,
// stopped, gone), a supervisor that goes takes its subtree along, dynamic children share a
// path and are told apart, and lookups by path, pid and id answer without a walk.
#include "tree_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace vigil::daemon {
namespace {

using supervision::child_event;
using supervision::child_state;
using supervision::child_type;
using supervision::exit_report;
using kind = child_event::kind;

child_event event(kind what, std::string path, std::optional<pid> process = {},
                  std::uint64_t key = 1) {
  child_event e;
  e.what = what;
  e.id = path.substr(path.rfind('/') + 1);
  e.path = std::move(path);
  e.key = key;
  e.process = process;
  return e;
}

child_event decided(std::string path, exit_report::decision what, std::optional<pid> process,
                    std::chrono::milliseconds delay = std::chrono::milliseconds{0}) {
  child_event e = event(kind::decided, std::move(path), process);
  e.report.what = what;
  e.report.process = process;
  e.report.delay = delay;
  e.report.reason = term("it broke");
  e.report.retry = true;
  return e;
}

pid P(std::uint32_t index) {
  return pid{0, index, 1};
}

/// `e` as the supervisor `sup` tells it.
child_event from(pid sup, child_event e) {
  e.supervisor = sup;
  return e;
}

/// The processes of the children of the supervisor process `sup` at `path`, in start order.
std::vector<pid> children_of(const tree_index& index, std::string_view path, pid sup) {
  std::vector<pid> seen;
  index.read([&](const tree_index::view& v) {
    v.children(path, sup,
               [&](const indexed_child& c) { seen.push_back(c.process.value_or(pid{})); });
  });
  return seen;
}

/// root/conns, a simple_one_for_one supervisor (P(2)), starts a `conn` supervisor from its
/// template as `twin` (key `key`), which starts its static children `reader` and `writer`
/// as `twin` + 1 and + 2 first, as a supervisor's init does.
void start_twin(tree_index& index, std::uint32_t twin, std::uint64_t key) {
  index.apply(from(P(twin), event(kind::started, "root/conns/conn/reader", P(twin + 1))), 0, 0);
  index.apply(from(P(twin), event(kind::started, "root/conns/conn/writer", P(twin + 2))), 0, 0);
  auto conn = from(P(2), event(kind::started, "root/conns/conn", P(twin), key));
  conn.type = child_type::supervisor;
  conn.dynamic = true;
  index.apply(conn, 0, 0);
}

/// root/conns, started.
void start_conns(tree_index& index) {
  auto conns = from(P(1), event(kind::started, "root/conns", P(2)));
  conns.type = child_type::supervisor;
  index.apply(conns, 0, 0);
}

TEST(TreeIndex, AStartedChildIsFoundByPathPidAndId) {
  tree_index index;
  supervision::child_spec spec;
  spec.id = "web";
  spec.kind = "echo";
  auto e = event(kind::started, "root/web", P(7));
  e.spec = &spec;
  index.apply(e, 4711, 1000);
  auto c = index.at("root/web");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->process, P(7));
  EXPECT_EQ(c->os_pid, 4711);
  EXPECT_EQ(c->state, child_state::running);
  EXPECT_EQ(c->started_ms, 1000);
  ASSERT_TRUE(c->spec);
  EXPECT_EQ(c->spec->kind, "echo");
  EXPECT_EQ(index.of(P(7))->path, "root/web");
  EXPECT_EQ(index.with_id("web").size(), 1U);
}

TEST(TreeIndex, AnExitThenItsDecisionsMoveTheStateAsTheSupervisorDoes) {
  tree_index index;
  index.apply(event(kind::started, "root/w", P(7)), 0, 0);
  index.apply(event(kind::exited, "root/w", P(7)), 0, 10);
  EXPECT_EQ(index.at("root/w")->state, child_state::stopped);
  EXPECT_FALSE(index.of(P(7))) << "a dead pid is nobody's";
  index.apply(decided("root/w", exit_report::decision::backoff, P(7), std::chrono::seconds(2)), 0,
              10);
  auto c = index.at("root/w");
  EXPECT_EQ(c->state, child_state::backoff);
  EXPECT_EQ(c->info(1010).backoff_left, std::chrono::milliseconds(1000));
  index.apply(event(kind::started, "root/w", P(8)), 0, 2010);
  c = index.at("root/w");
  EXPECT_EQ(c->state, child_state::running);
  EXPECT_EQ(c->process, P(8));
  EXPECT_EQ(index.restarts("root/w"), 1U);
  ASSERT_EQ(c->history.size(), 1U);
  EXPECT_EQ(c->history[0].what, exit_report::decision::backoff);
}

TEST(TreeIndex, AGatedChildIsStartingWithWhatItWaitsForUntilItIsReady) {
  tree_index index;
  index.apply(event(kind::started, "root/db", P(7)), 0, 0);
  auto waiting = event(kind::waiting, "root/db", P(7));
  waiting.reason = term("tcp 127.0.0.1:6379");
  index.apply(waiting, 0, 0);
  auto c = index.at("root/db");
  EXPECT_EQ(c->state, child_state::starting);
  EXPECT_EQ(c->info(0).waiting_for, "waiting for tcp 127.0.0.1:6379");
  index.apply(event(kind::ready, "root/db", P(7)), 0, 5);
  c = index.at("root/db");
  EXPECT_EQ(c->state, child_state::running);
  EXPECT_EQ(c->info(5).waiting_for, "");
  index.apply(event(kind::exited, "root/db", P(7)), 0, 10);
  EXPECT_EQ(index.at("root/db")->reason, "") << "a stop leaves no stale detail";
}

TEST(TreeIndex, AChildNotRestartedKeepsItsReason) {
  tree_index index;
  index.apply(event(kind::started, "root/job", P(7)), 0, 0);
  index.apply(event(kind::exited, "root/job", P(7)), 0, 10);
  index.apply(decided("root/job", exit_report::decision::none, P(7)), 0, 10);
  auto c = index.at("root/job");
  EXPECT_EQ(c->state, child_state::stopped);
  EXPECT_EQ(c->info(10).reason, "it broke");
}

TEST(TreeIndex, AHeldChildIsFailedWithItsReasonAndRetry) {
  tree_index index;
  // Failed at its first start: there was never a started event.
  index.apply(
      decided("root/w", exit_report::decision::failed, std::nullopt, std::chrono::seconds(10)), 0,
      0);
  auto c = index.at("root/w");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, child_state::failed);
  auto info = c->info(4000);
  EXPECT_EQ(info.reason, "it broke");
  EXPECT_TRUE(info.retry);
  EXPECT_EQ(info.backoff_left, std::chrono::milliseconds(6000));
}

TEST(TreeIndex, ARemovedChildIsGoneAndItsRestartCountStays) {
  tree_index index;
  index.apply(event(kind::started, "root/t", P(7)), 0, 0);
  index.apply(event(kind::exited, "root/t", P(7)), 0, 0);
  index.apply(event(kind::started, "root/t", P(8)), 0, 0);
  index.apply(event(kind::removed, "root/t", P(8)), 0, 0);
  EXPECT_FALSE(index.at("root/t"));
  EXPECT_TRUE(index.with_id("t").empty());
  EXPECT_EQ(index.restarts("root/t"), 1U);
  index.forget("root/t");
  EXPECT_EQ(index.restarts("root/t"), 0U);
}

TEST(TreeIndex, ASupervisorThatStopsTakesItsSubtreeAlong) {
  tree_index index;
  // A nested supervisor's children start before its own start is told; each event names
  // the supervisor that tells it, as supervisors stamp them.
  index.apply(from(P(13), event(kind::started, "root/jobs/x", P(10))), 0, 0);
  index.apply(from(P(12), event(kind::started, "root/jobs/deep/y", P(11))), 0, 0);
  auto deep = from(P(13), event(kind::started, "root/jobs/deep", P(12)));
  deep.type = child_type::supervisor;
  index.apply(deep, 0, 0);
  auto jobs = from(P(1), event(kind::started, "root/jobs", P(13)));
  jobs.type = child_type::supervisor;
  index.apply(jobs, 0, 0);
  EXPECT_EQ(index.supervisor_at("root/jobs"), P(13));
  EXPECT_EQ(index.supervisor_at("root/jobs/deep"), P(12));
  EXPECT_FALSE(index.supervisor_at("root/jobs/x")) << "a worker is not a supervisor";
  auto gone = from(P(1), event(kind::exited, "root/jobs", P(13)));
  gone.type = child_type::supervisor;
  // It was killed: nothing stopped its children first, so the index names those that ran.
  auto orphans = index.apply(gone, 0, 0);
  std::vector<std::pair<std::string, pid>> told;
  for (const auto& o : orphans) {
    told.emplace_back(o.path, o.process);
  }
  std::sort(told.begin(), told.end());
  EXPECT_EQ(told,
            (std::vector<std::pair<std::string, pid>>{
                {"root/jobs/deep", P(12)}, {"root/jobs/deep/y", P(11)}, {"root/jobs/x", P(10)}}));
  EXPECT_FALSE(index.supervisor_at("root/jobs"));
  EXPECT_FALSE(index.at("root/jobs/x"));
  EXPECT_FALSE(index.at("root/jobs/deep/y"));
  EXPECT_FALSE(index.of(P(11)));
  EXPECT_EQ(index.size(), 1U) << "only root/jobs itself is left, stopped";
}

TEST(TreeIndex, AChildEntryCarriesItsRestartCountUntilAReloadForgetsIt) {
  tree_index index;
  index.apply(event(kind::started, "root/w", P(7)), 0, 0);
  index.apply(event(kind::exited, "root/w", P(7)), 0, 1);
  index.apply(event(kind::started, "root/w", P(8)), 0, 2);
  ASSERT_TRUE(index.at("root/w"));
  EXPECT_EQ(index.at("root/w")->restarts, 1U);
  EXPECT_EQ(index.restarts("root/w"), 1U) << "the entry and the count by path agree";
  index.forget("root/w");
  EXPECT_EQ(index.at("root/w")->restarts, 0U);
  EXPECT_EQ(index.restarts("root/w"), 0U);
}

TEST(TreeIndex, ASupervisorThatStoppedItsChildrenLeavesNoneToTell) {
  tree_index index;
  index.apply(event(kind::started, "root/jobs/x", P(10)), 0, 0);
  auto jobs = event(kind::started, "root/jobs", P(13));
  jobs.type = child_type::supervisor;
  index.apply(jobs, 0, 0);
  index.apply(event(kind::stopped, "root/jobs/x", P(10)), 0, 0);
  auto gone = event(kind::stopped, "root/jobs", P(13));
  gone.type = child_type::supervisor;
  EXPECT_TRUE(index.apply(gone, 0, 0).empty()) << "its children's stops were told already";
}

TEST(TreeIndex, DynamicChildrenShareAPathAndAreToldApartByKey) {
  tree_index index;
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto e = event(kind::started, "root/pool/conn", P(20 + i), 100 + i);
    e.dynamic = true;
    index.apply(e, 0, 0);
  }
  std::vector<pid> seen;
  index.read([&](const tree_index::view& v) {
    v.children("root/pool", [&](const indexed_child& c) { seen.push_back(*c.process); });
  });
  EXPECT_EQ(seen, (std::vector<pid>{P(20), P(21), P(22)})) << "in start order";
  auto gone = event(kind::removed, "root/pool/conn", std::nullopt, 101);
  gone.dynamic = true;
  index.apply(gone, 0, 0);
  EXPECT_FALSE(index.of(P(21)));
  EXPECT_EQ(index.with_id("conn").size(), 2U);
}

TEST(TreeIndex, APathThroughADynamicSupervisorFindsItWhileItIsAlone) {
  tree_index index;
  auto sub = event(kind::started, "root/pool/sub", P(40), 7);
  sub.type = child_type::supervisor;
  sub.dynamic = true;
  sub.supervisor = P(2);
  auto w = event(kind::started, "root/pool/sub/w", P(41));
  w.supervisor = P(40);
  index.apply(w, 0, 0);
  index.apply(sub, 0, 0);
  EXPECT_EQ(index.supervisor_at("root/pool/sub"), P(40));
  ASSERT_TRUE(index.at("root/pool/sub"));
  EXPECT_EQ(index.at("root/pool/sub")->process, P(40));
  ASSERT_TRUE(index.at("root/pool/sub/w"));
  EXPECT_EQ(index.at("root/pool/sub/w")->supervisor, P(40)) << "its own supervisor, by pid";
  auto twin = event(kind::started, "root/pool/sub", P(42), 8);
  twin.type = child_type::supervisor;
  twin.dynamic = true;
  index.apply(twin, 0, 0);
  EXPECT_FALSE(index.supervisor_at("root/pool/sub")) << "two share the path: give a pid";
  auto gone = event(kind::removed, "root/pool/sub", std::nullopt, 8);
  gone.type = child_type::supervisor;
  gone.dynamic = true;
  index.apply(gone, 0, 0);
  EXPECT_EQ(index.supervisor_at("root/pool/sub"), P(40)) << "alone again";
}

TEST(TreeIndex, TwoDynamicSupervisorsFromOneTemplateKeepTheirOwnChildren) {
  tree_index index;
  start_conns(index);
  start_twin(index, 10, 1);
  start_twin(index, 20, 2);
  EXPECT_EQ(index.size(), 7U) << "conns, two conns and a reader and a writer for each";
  EXPECT_EQ(children_of(index, "root/conns/conn", P(10)), (std::vector<pid>{P(11), P(12)}));
  EXPECT_EQ(children_of(index, "root/conns/conn", P(20)), (std::vector<pid>{P(21), P(22)}));
  EXPECT_EQ(index.with_id("reader").size(), 2U);
  ASSERT_TRUE(index.of(P(21)));
  EXPECT_EQ(index.of(P(21))->supervisor, P(20));
  EXPECT_FALSE(index.at("root/conns/conn/reader")) << "two share the path: give a pid";
  // One twin's reader crashes and restarts: the other's is untouched.
  index.apply(from(P(10), event(kind::exited, "root/conns/conn/reader", P(11))), 0, 1);
  index.apply(from(P(10), decided("root/conns/conn/reader", exit_report::decision::restart, P(11))),
              0, 1);
  ASSERT_TRUE(index.of(P(21)));
  EXPECT_EQ(index.of(P(21))->state, child_state::running);
  index.apply(from(P(10), event(kind::started, "root/conns/conn/reader", P(13))), 0, 2);
  EXPECT_EQ(children_of(index, "root/conns/conn", P(10)), (std::vector<pid>{P(13), P(12)}));
  EXPECT_EQ(children_of(index, "root/conns/conn", P(20)), (std::vector<pid>{P(21), P(22)}));
  EXPECT_EQ(index.size(), 7U) << "the restart kept its entry";
  EXPECT_EQ(index.of(P(13))->restarts, 1U);
  EXPECT_EQ(index.of(P(21))->restarts, 0U) << "the other twin's reader never restarted";
}

TEST(TreeIndex, ATwinThatExitsTakesOnlyItsOwnChildrenFromTheIndex) {
  tree_index index;
  start_conns(index);
  start_twin(index, 10, 1);
  start_twin(index, 20, 2);
  auto gone = from(P(2), event(kind::exited, "root/conns/conn", P(10), 1));
  gone.type = child_type::supervisor;
  gone.dynamic = true;
  // It was killed: its own children died with it, and only those.
  auto orphans = index.apply(gone, 0, 1);
  std::vector<pid> told;
  for (const auto& o : orphans) {
    told.push_back(o.process);
  }
  std::sort(told.begin(), told.end());
  EXPECT_EQ(told, (std::vector<pid>{P(11), P(12)}));
  EXPECT_FALSE(index.of(P(11)));
  EXPECT_FALSE(index.of(P(12)));
  EXPECT_EQ(children_of(index, "root/conns/conn", P(20)), (std::vector<pid>{P(21), P(22)}));
  auto removed = from(P(2), event(kind::removed, "root/conns/conn", std::nullopt, 1));
  removed.type = child_type::supervisor;
  removed.dynamic = true;
  index.apply(removed, 0, 1);
  EXPECT_EQ(index.size(), 4U) << "conns, the other conn, its reader and writer";
  // The twin left is alone at its paths: they name it and its children again.
  EXPECT_EQ(index.supervisor_at("root/conns/conn"), P(20));
  ASSERT_TRUE(index.at("root/conns/conn/reader"));
  EXPECT_EQ(index.at("root/conns/conn/reader")->process, P(21));
}

TEST(TreeIndex, ChildrenLeftByASupervisorWhoseStartFailedGoWhenItStartsAgain) {
  tree_index index;
  start_conns(index);
  // Its init started `reader`, then failed on `writer`: it stopped `reader` and exited
  // before its own start was told.
  index.apply(from(P(10), event(kind::started, "root/conns/conn/reader", P(11))), 0, 0);
  index.apply(from(P(10), event(kind::stopped, "root/conns/conn/reader", P(11))), 0, 0);
  start_twin(index, 20, 1);
  EXPECT_EQ(index.with_id("reader").size(), 1U) << "the stopped reader of a start that failed";
  ASSERT_TRUE(index.at("root/conns/conn/reader"));
  EXPECT_EQ(index.at("root/conns/conn/reader")->process, P(21));
}

TEST(TreeIndex, AStopForASiblingsRestartLeavesTheChildWaitingAsTheEventSays) {
  tree_index index;
  index.apply(event(kind::started, "root/b", P(7)), 0, 0);
  auto stop = event(kind::stopped, "root/b", P(7));
  stop.state = child_state::backoff;
  stop.due = supervision::time_point(std::chrono::milliseconds(3000));
  index.apply(stop, 0, 1000);
  auto c = index.at("root/b");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, child_state::backoff);
  EXPECT_FALSE(c->process);
  EXPECT_EQ(c->info(1500).backoff_left, std::chrono::milliseconds(1500));
  auto moved = event(kind::changed, "root/b");
  moved.state = child_state::stopped;
  index.apply(moved, 0, 1600);
  EXPECT_EQ(index.at("root/b")->state, child_state::stopped);
}

TEST(TreeIndex, AnUpdateReplacesTheSpecAChildStartedWith) {
  tree_index index;
  supervision::child_spec old_spec;
  old_spec.id = "w";
  old_spec.kind = "old";
  auto e = event(kind::started, "root/w", P(7));
  e.spec = &old_spec;
  index.apply(e, 0, 0);
  supervision::child_spec new_spec = old_spec;
  new_spec.kind = "new";
  auto u = event(kind::updated, "root/w", P(7));
  u.spec = &new_spec;
  index.apply(u, 0, 0);
  ASSERT_TRUE(index.at("root/w")->spec);
  EXPECT_EQ(index.at("root/w")->spec->kind, "new");
  EXPECT_EQ(index.at("root/w")->process, P(7));
}

TEST(TreeIndex, ChildrenAreListedInTheOrderTheyFirstStarted) {
  tree_index index;
  std::uint32_t next = 30;
  for (const char* id : {"b", "a", "c"}) {
    index.apply(event(kind::started, std::string("root/") + id, P(next++)), 0, 0);
  }
  index.apply(event(kind::started, "root/a", P(next)), 0, 0); // a restart keeps its place
  std::vector<std::string> order;
  index.read([&](const tree_index::view& v) {
    v.children("root", [&](const indexed_child& c) { order.push_back(c.id); });
  });
  EXPECT_EQ(order, (std::vector<std::string>{"b", "a", "c"}));
}

TEST(TreeIndex, ClearForgetsTheTreeButNotTheRestartCounts) {
  tree_index index;
  index.apply(event(kind::started, "root/w", P(7)), 0, 0);
  index.apply(event(kind::started, "root/w", P(8)), 0, 0);
  index.clear();
  EXPECT_EQ(index.size(), 0U);
  EXPECT_FALSE(index.of(P(8)));
  EXPECT_EQ(index.restarts("root/w"), 1U);
}

} // namespace
} // namespace vigil::daemon
