// SPDX-License-Identifier: Apache-2.0
#include "vigil/config/options.hpp"
#include "vigil/config/reload.hpp"

#include "config_test_util.hpp"

#include <gtest/gtest.h>

namespace vigil::config {
namespace {

using strings = std::vector<std::string>;

supervision::supervisor_spec tree(std::string_view text) {
  return test::load_ok(text).root;
}

// Children a, b, c (echo workers) under `strategy`; `extra_b` is appended to b's table.
supervision::supervisor_spec abc(std::string_view strategy, std::string_view extra_b = "") {
  return tree("[supervisor]\nstrategy = \"" + std::string(strategy)
              + "\"\n"
                "[[supervisor.children]]\nid = \"a\"\nkind = \"echo\"\n"
                "[[supervisor.children]]\nid = \"b\"\nkind = \"echo\"\n"
              + std::string(extra_b) + "[[supervisor.children]]\nid = \"c\"\nkind = \"echo\"\n");
}

// The steps as "stop root/b (args changed)".
strings steps(const reload_plan& plan) {
  strings out;
  for (const auto& s : plan.steps) {
    std::string verb = s.what == plan_step::kind::stop    ? "stop "
                       : s.what == plan_step::kind::start ? "start "
                                                          : "update ";
    out.push_back(verb + path_text(s.path) + " (" + s.reason + ")");
  }
  return out;
}

TEST(ReloadDiff, IdenticalTreesNeedNothing) {
  auto plan = diff(abc("one_for_one"), abc("one_for_one"));
  EXPECT_TRUE(plan.empty());
  EXPECT_EQ(plan.changes.size(), 3U);
  EXPECT_EQ(describe(plan), "reload plan: nothing to do (3 unchanged)\n");
}

TEST(ReloadDiff, IgnoresWhereChildrenAreWritten) {
  auto old = tree("[[supervisor.children]]\nid = \"a\"\nkind = \"echo\"\n");
  auto next = tree("\n\n# moved\n[[supervisor.children]]\n  kind = \"echo\"\n  id = \"a\"\n");
  EXPECT_TRUE(diff(old, next).empty());
}

TEST(ReloadDiff, RestartsAChildWhoseArgsChanged) {
  auto plan = diff(abc("one_for_one"), abc("one_for_one", "args = { delay = 1 }\n"));
  EXPECT_EQ(plan.changes.at(1), (child_change{{"b"}, action::restart, "args changed"}));
  EXPECT_EQ(steps(plan), (strings{"stop root/b (args changed)", "start root/b (args changed)"}));
}

TEST(ReloadDiff, RestartsACommandWhoseResourceLimitsChanged) {
  auto old = tree("[[supervisor.children]]\nid = \"p\"\ncommand = [\"a\"]\n"
                  "rlimits = { nofile = 1024 }\n");
  auto next = tree("[[supervisor.children]]\nid = \"p\"\ncommand = [\"a\"]\n"
                   "rlimits = { nofile = [1024, 4096] }\n");
  auto plan = diff(old, next);
  EXPECT_EQ(plan.changes.at(0), (child_change{{"p"}, action::restart, "rlimits changed"}));
  EXPECT_TRUE(diff(old, old).empty());
}

TEST(ReloadDiff, RestartsAChildGivenAHealthCheckAndUpdatesOneWhoseReadinessChanged) {
  // The checks run beside the child's process: a new or changed health check takes a new
  // incarnation, whichever part of it changed; readiness matters only at the next start.
  auto old = abc("one_for_one");
  auto next = abc("one_for_one");
  next.children[1].health.kind = supervision::probe_kind::http;
  next.children[1].health.target = "http://127.0.0.1:8080/";
  auto plan = diff(old, next);
  EXPECT_EQ(plan.changes.at(1), (child_change{{"b"}, action::restart, "health changed"}));
  auto later = next;
  later.children[1].health.failures = 7;
  EXPECT_EQ(diff(next, later).changes.at(1),
            (child_change{{"b"}, action::restart, "health changed"}));
  auto ready = next;
  ready.children[1].ready.kind = supervision::probe_kind::notify;
  EXPECT_EQ(diff(next, ready).changes.at(1),
            (child_change{{"b"}, action::update, "ready changed"}));
}

TEST(ReloadDiff, NamesEveryFieldThatChanged) {
  auto old = tree("[[supervisor.children]]\nid = \"p\"\ncommand = [\"a\"]\n");
  auto next = tree("[[supervisor.children]]\nid = \"p\"\ncommand = [\"b\"]\nenv = { X = \"1\" }\n");
  EXPECT_EQ(steps(diff(old, next)),
            (strings{"stop root/p (command, env changed)", "start root/p (command, env changed)"}));
}

TEST(ReloadDiff, UpdatesInPlaceWhenOnlySupervisionChanged) {
  auto plan =
      diff(abc("one_for_one"), abc("one_for_one", "restart = \"transient\"\nshutdown = \"1s\"\n"));
  EXPECT_EQ(plan.changes.at(1), (child_change{{"b"}, action::update, "restart, shutdown changed"}));
  EXPECT_EQ(steps(plan), (strings{"update root/b (restart, shutdown changed)"}));
}

TEST(ReloadDiff, StopsInReverseStartOrderThenStartsInStartOrder) {
  auto old = abc("one_for_one");
  auto next = tree(R"(
[[supervisor.children]]
id = "a"
kind = "echo"
args = { v = 2 }
[[supervisor.children]]
id = "x"
kind = "echo"
[[supervisor.children]]
id = "c"
kind = "echo"
args = { v = 2 }
)");
  auto plan = diff(old, next);
  EXPECT_EQ(steps(plan), (strings{
                             "stop root/c (args changed)",
                             "stop root/b (removed)",
                             "stop root/a (args changed)",
                             "start root/a (args changed)",
                             "start root/x (new child)",
                             "start root/c (args changed)",
                         }));
  EXPECT_EQ(plan.changes, (std::vector<child_change>{
                              {{"b"}, action::stop, "removed"},
                              {{"a"}, action::restart, "args changed"},
                              {{"x"}, action::start, "new child"},
                              {{"c"}, action::restart, "args changed"},
                          }));
}

TEST(ReloadDiff, OneForAllRestartsEveryKeptSiblingWithAChangedChild) {
  auto plan = diff(abc("one_for_all"), abc("one_for_all", "args = { delay = 1 }\n"));
  EXPECT_EQ(steps(plan), (strings{
                             "stop root/c (restarted with b (one_for_all))",
                             "stop root/b (args changed)",
                             "stop root/a (restarted with b (one_for_all))",
                             "start root/a (restarted with b (one_for_all))",
                             "start root/b (args changed)",
                             "start root/c (restarted with b (one_for_all))",
                         }));
}

TEST(ReloadDiff, RestForOneRestartsTheChildrenAfterTheChangedOne) {
  auto plan = diff(abc("rest_for_one"), abc("rest_for_one", "args = { delay = 1 }\n"));
  EXPECT_EQ(steps(plan), (strings{
                             "stop root/c (restarted with b (rest_for_one))",
                             "stop root/b (args changed)",
                             "start root/b (args changed)",
                             "start root/c (restarted with b (rest_for_one))",
                         }));
}

TEST(ReloadDiff, NewChildrenDoNotRestartTheirSiblings) {
  auto old = tree("[supervisor]\nstrategy = \"one_for_all\"\n"
                  "[[supervisor.children]]\nid = \"a\"\nkind = \"echo\"\n");
  auto next = abc("one_for_all");
  EXPECT_EQ(steps(diff(old, next)),
            (strings{"start root/b (new child)", "start root/c (new child)"}));
}

TEST(ReloadDiff, UpdatesSupervisorFlagsInPlace) {
  auto old = abc("one_for_one");
  auto next = tree("[supervisor]\nintensity = 10\nstrategy = \"one_for_all\"\n"
                   "[[supervisor.children]]\nid = \"a\"\nkind = \"echo\"\n"
                   "[[supervisor.children]]\nid = \"b\"\nkind = \"echo\"\n"
                   "[[supervisor.children]]\nid = \"c\"\nkind = \"echo\"\n");
  auto plan = diff(old, next);
  EXPECT_EQ(steps(plan), (strings{"update root (strategy, intensity changed)"}));
  EXPECT_EQ(plan.changes.at(0), (child_change{{}, action::update, "strategy, intensity changed"}));
}

constexpr std::string_view nested = R"(
[[supervisor.children]]
id = "front"
kind = "echo"
[[supervisor.children]]
id = "jobs"
type = "supervisor"
INTENSITY
  [[supervisor.children.children]]
  id = "dispatcher"
  kind = "dispatcher"
  ARGS
  [[supervisor.children.children]]
  id = "old"
  kind = "echo"
)";

supervision::supervisor_spec nested_tree(std::string_view intensity, std::string_view args) {
  std::string text(nested);
  text.replace(text.find("INTENSITY"), 9, intensity);
  text.replace(text.find("ARGS"), 4, args);
  return tree(text);
}

TEST(ReloadDiff, DescendsIntoNestedSupervisors) {
  auto plan = diff(nested_tree("", ""), nested_tree("intensity = 1", "args = { delay = 5 }"));
  EXPECT_EQ(steps(plan), (strings{
                             "update root/jobs (intensity changed)",
                             "stop root/jobs/dispatcher (args changed)",
                             "start root/jobs/dispatcher (args changed)",
                         }));
  EXPECT_EQ(plan.changes, (std::vector<child_change>{
                              {{"front"}, action::unchanged, ""},
                              {{"jobs"}, action::update, "intensity changed"},
                              {{"jobs", "dispatcher"}, action::restart, "args changed"},
                              {{"jobs", "old"}, action::unchanged, ""},
                          }));
}

TEST(ReloadDiff, RestartsAChildThatChangesType) {
  auto old = tree("[[supervisor.children]]\nid = \"x\"\nkind = \"echo\"\n");
  auto next = tree("[[supervisor.children]]\nid = \"x\"\ntype = \"supervisor\"\n");
  EXPECT_EQ(steps(diff(old, next)),
            (strings{"stop root/x (type changed)", "start root/x (type changed)"}));
}

TEST(ReloadDiff, RestartsTheTreeWhenTheRootBecomesSimpleOneForOne) {
  auto next = tree("[supervisor]\nstrategy = \"simple_one_for_one\"\n"
                   "[[supervisor.children]]\nid = \"t\"\nkind = \"echo\"\n");
  auto plan = diff(abc("one_for_one"), next);
  const std::string why = "root restarts: strategy changed from one_for_one to simple_one_for_one";
  EXPECT_EQ(steps(plan), (strings{"stop root/c (" + why + ")", "stop root/b (" + why + ")",
                                  "stop root/a (" + why + ")", "start root/t (" + why + ")"}));
}

TEST(ReloadDiff, UpdatesASimpleOneForOneTemplateWithoutTouchingItsChildren) {
  auto old = tree("[supervisor]\nstrategy = \"simple_one_for_one\"\n"
                  "[[supervisor.children]]\nid = \"t\"\nkind = \"echo\"\n");
  auto next = tree("[supervisor]\nstrategy = \"simple_one_for_one\"\n"
                   "[[supervisor.children]]\nid = \"t\"\nkind = \"echo\"\nargs = { v = 1 }\n");
  EXPECT_EQ(steps(diff(old, next)), (strings{"update root (child template changed)"}));
}

TEST(ReloadDiff, DescribesThePlanForADryRun) {
  auto plan = diff(abc("one_for_one"), abc("one_for_one", "args = { delay = 1 }\n"));
  EXPECT_EQ(describe(plan), "reload plan: 0 to start, 0 to stop, 1 to restart, 0 to update, "
                            "2 unchanged\n"
                            "  restart  root/b: args changed\n"
                            "steps:\n"
                            "  1. stop root/b (args changed)\n"
                            "  2. start root/b (args changed)\n");
}

TEST(ReloadDiff, ListsEveryChangedDaemonOption) {
  auto old = test::load_ok("[daemon]\n");
  auto next = test::load_ok(R"([daemon]
socket = "/run/other.sock"
log_level = "debug"
allowed_users = ["alice"]
allowed_groups = ["adm"]
plugins = ["/opt/x.so"]
log_dir = "/var/log/vigil"
max_connections_per_user = 8
first_request_timeout = "5s"
slow_reader_timeout = "1m"
cgroup = "off"
default_pids = 512
)");
  strings every_daemon_option;
  for (const auto& o : option_catalogue()) {
    if (o.where == section::daemon) {
      every_daemon_option.emplace_back(o.name);
    }
  }
  auto plan = diff(old, next);
  EXPECT_EQ(plan.daemon_changes, every_daemon_option);
  EXPECT_FALSE(plan.empty());
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_TRUE(diff(next, next).empty());
}

TEST(ReloadDiff, DescribesADaemonOnlyChange) {
  auto plan = diff(test::load_ok("[daemon]\n"), test::load_ok("[daemon]\nlog_level = \"debug\"\n"));
  EXPECT_EQ(describe(plan), "reload plan: no child to touch (0 unchanged)\n"
                            "  daemon.log_level changed\n");
}

TEST(FindChild, FollowsAPathOfIds) {
  auto root = nested_tree("", "");
  ASSERT_NE(find_child(root, {"jobs", "dispatcher"}), nullptr);
  EXPECT_EQ(find_child(root, {"jobs", "dispatcher"})->kind, "dispatcher");
  EXPECT_EQ(find_child(root, {"jobs", "nope"}), nullptr);
  EXPECT_EQ(find_child(root, {"front", "x"}), nullptr);
  EXPECT_EQ(find_child(root, {}), nullptr);
}

} // namespace
} // namespace vigil::config
