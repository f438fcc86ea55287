// SPDX-License-Identifier: Apache-2.0
// The commands of docs/protocol.md as a client's session runs them, against a real tree:
// what each answers (status rows, start/stop/restart by path, the errors) and what it does
// to the tree. Assertions are on the reply lines only, so they hold whatever the daemon uses
// to find the children.
#include "vigil/term/text.hpp"

#include "daemon_fixture.hpp"
#include "eventually.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::daemon::test {
namespace {

constexpr std::string_view tree_config = R"(
[supervisor]
strategy = "one_for_one"
intensity = 10
period = "5s"

[[supervisor.children]]
id = "echo"
kind = "echo"

[[supervisor.children]]
id = "jobs"
type = "supervisor"
strategy = "one_for_one"

  [[supervisor.children.children]]
  id = "dispatcher"
  kind = "dispatcher"

[[supervisor.children]]
id = "once"
kind = "echo"
restart = "temporary"
)";

/// A request line: {"id":id,"cmd":cmd,"args":args}.
std::string line(int id, std::string_view cmd, const json& args = json::object()) {
  return json{{"id", id}, {"cmd", cmd}, {"args", args}}.dump();
}

std::string text_of(pid p) {
  return to_string(term(p));
}

class DaemonCommands : public ::testing::Test {
public:
  daemon_fixture d{test_config(tree_config)};
  session_client client{d};

  json status() { return client.call(line(1, "status")); }

  /// The pid a status row shows for `path` (null when it does not run).
  json pid_at(std::string_view path) { return row_of(status(), path)["pid"]; }
};

TEST_F(DaemonCommands, HelloNamesTheSessionAsSelf) {
  auto r = client.call(line(7, "hello"));
  ASSERT_TRUE(r["ok"]) << r;
  EXPECT_EQ(r["id"], 7);
  EXPECT_EQ(r["v"], 1);
  EXPECT_EQ(r["result"]["daemon"], "vigild");
  EXPECT_EQ(r["result"]["protocol"], 1);
  EXPECT_EQ(r["result"]["self"], text_of(client.session()));
}

TEST_F(DaemonCommands, StatusListsEveryChildDepthFirstWithItsState) {
  auto r = status();
  ASSERT_TRUE(r["ok"]) << r;
  std::vector<std::string> paths;
  for (json row : rows_of(r)) {
    paths.push_back(row["path"]);
    EXPECT_EQ(row["state"], "running") << row;
    EXPECT_TRUE(row["pid"].is_string()) << row;
    EXPECT_EQ(row["restarts"], 0) << row;
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"root/echo", "root/jobs", "root/jobs/dispatcher",
                                             "root/once"}));
  auto echo = row_of(r, "root/echo");
  EXPECT_EQ(echo["id"], "echo");
  EXPECT_EQ(echo["type"], "worker");
  EXPECT_EQ(echo["kind"], "echo");
  EXPECT_EQ(echo["mode"], "inprocess");
  auto jobs = row_of(r, "root/jobs");
  EXPECT_EQ(jobs["type"], "supervisor");
  EXPECT_EQ(jobs["kind"], "supervisor");
  EXPECT_TRUE(jobs["mode"].is_null());
  EXPECT_EQ(row_of(r, "root/jobs/dispatcher")["kind"], "dispatcher");
}

TEST_F(DaemonCommands, StatusByIdOrPathListsOnlyThatChild) {
  for (const char* name : {"dispatcher", "jobs/dispatcher", "root/jobs/dispatcher"}) {
    auto r = client.call(line(2, "status", {{"names", {name}}}));
    ASSERT_TRUE(r["ok"]) << r;
    ASSERT_EQ(r["result"]["workers"].size(), 1U) << name << ": " << r;
    EXPECT_EQ(r["result"]["workers"][0]["path"], "root/jobs/dispatcher");
  }
}

TEST_F(DaemonCommands, StatusOfANameNoChildHasIsNotFound) {
  auto r = client.call(line(3, "status", {{"names", {"ech"}}}));
  ASSERT_TRUE(is_error(r, "not_found")) << r;
  EXPECT_EQ(r["id"], 3);
  EXPECT_EQ(r["error"]["message"], "no worker named 'ech'");
}

TEST_F(DaemonCommands, TreeNestsEachChildUnderItsSupervisor) {
  auto r = client.call(line(4, "tree"));
  ASSERT_TRUE(r["ok"]) << r;
  json root = r["result"]["tree"];
  EXPECT_EQ(root["path"], "root");
  EXPECT_EQ(root["strategy"], "one_for_one");
  ASSERT_EQ(root["children"].size(), 3U) << root;
  json jobs = root["children"][1];
  EXPECT_EQ(jobs["path"], "root/jobs");
  EXPECT_EQ(jobs["type"], "supervisor");
  ASSERT_EQ(jobs["children"].size(), 1U);
  EXPECT_EQ(jobs["children"][0]["path"], "root/jobs/dispatcher");
  EXPECT_EQ(jobs["children"][0]["kind"], "dispatcher");
  EXPECT_TRUE(r["result"]["spawned"].empty());
}

TEST_F(DaemonCommands, StopByPathStopsTheChildAndStartBringsItBackWithANewPid) {
  const json before = pid_at("root/jobs/dispatcher");
  ASSERT_TRUE(before.is_string());

  auto stopped = client.call(line(5, "stop", {{"name", "root/jobs/dispatcher"}}));
  ASSERT_TRUE(stopped["ok"]) << stopped;
  EXPECT_TRUE(stopped["result"]["pid"].is_null());
  EXPECT_EQ(stopped["result"]["unchanged"], false);
  auto row = row_of(status(), "root/jobs/dispatcher");
  EXPECT_EQ(row["state"], "stopped") << row;
  EXPECT_TRUE(row["pid"].is_null()) << row;
  EXPECT_TRUE(row["uptime_ms"].is_null()) << row;

  auto again = client.call(line(6, "stop", {{"name", "jobs/dispatcher"}}));
  ASSERT_TRUE(again["ok"]) << again;
  EXPECT_EQ(again["result"]["unchanged"], true);

  auto started = client.call(line(7, "start", {{"name", "dispatcher"}}));
  ASSERT_TRUE(started["ok"]) << started;
  ASSERT_TRUE(started["result"]["pid"].is_string()) << started;
  EXPECT_NE(started["result"]["pid"], before);
  row = row_of(status(), "root/jobs/dispatcher");
  EXPECT_EQ(row["state"], "running");
  EXPECT_EQ(row["pid"], started["result"]["pid"]);
}

TEST_F(DaemonCommands, StartOfARunningChildChangesNothing) {
  const json running = pid_at("root/echo");
  auto r = client.call(line(8, "start", {{"name", "echo"}}));
  ASSERT_TRUE(r["ok"]) << r;
  EXPECT_EQ(r["result"]["pid"], running);
  EXPECT_EQ(r["result"]["unchanged"], true);
}

TEST_F(DaemonCommands, RestartByPathReplacesTheProcess) {
  const json before = pid_at("root/echo");
  auto r = client.call(line(9, "restart", {{"name", "root/echo"}}));
  ASSERT_TRUE(r["ok"]) << r;
  ASSERT_TRUE(r["result"]["pid"].is_string()) << r;
  EXPECT_NE(r["result"]["pid"], before);
  auto old_alive = client.call(line(10, "alive", {{"target", before}}));
  ASSERT_TRUE(old_alive["ok"]) << old_alive;
  EXPECT_EQ(old_alive["result"]["alive"], false);
  EXPECT_EQ(pid_at("root/echo"), r["result"]["pid"]);
}

TEST_F(DaemonCommands, AStoppedTemporaryChildIsEndedAndStartBringsItBack) {
  auto stopped = client.call(line(11, "stop", {{"name", "once"}}));
  ASSERT_TRUE(stopped["ok"]) << stopped;
  auto row = row_of(status(), "root/once");
  EXPECT_EQ(row["state"], "ended") << row;
  EXPECT_TRUE(row["pid"].is_null()) << row;

  auto started = client.call(line(12, "start", {{"name", "once"}}));
  ASSERT_TRUE(started["ok"]) << started;
  EXPECT_TRUE(started["result"]["pid"].is_string()) << started;
  EXPECT_EQ(row_of(status(), "root/once")["state"], "running");
}

TEST_F(DaemonCommands, CommandsOnAPathNoChildHasAreNotFound) {
  int id = 20;
  for (const char* cmd : {"start", "stop", "restart", "logs"}) {
    auto r = client.call(line(id, cmd, {{"name", "root/nope"}}));
    EXPECT_TRUE(is_error(r, "not_found")) << cmd << ": " << r;
    EXPECT_EQ(r["id"], id++);
  }
  for (const char* cmd : {"info", "alive", "kill"}) {
    auto r = client.call(line(id, cmd, {{"target", "root/nope"}}));
    EXPECT_TRUE(is_error(r, "not_found")) << cmd << ": " << r;
  }
  auto send = client.call(line(id, "send", {{"target", "nope"}, {"term", ":hi"}}));
  EXPECT_TRUE(is_error(send, "not_found")) << send;
}

TEST_F(DaemonCommands, MalformedArgumentsAreInvalidArgument) {
  auto send = client.call(line(30, "send", {{"target", "echo"}, {"term", "{self(), "}}));
  EXPECT_TRUE(is_error(send, "invalid_argument")) << send;
  auto kill = client.call(line(31, "kill", {{"target", "echo"}, {"reason", "%{oops"}}));
  EXPECT_TRUE(is_error(kill, "invalid_argument")) << kill;
  auto root = client.call(line(32, "start", {{"name", "root"}}));
  EXPECT_TRUE(is_error(root, "invalid_argument")) << root;
  auto spawn = client.call(line(33, "spawn", {{"kind", "no_such_kind"}}));
  EXPECT_TRUE(is_error(spawn, "not_found")) << spawn;
  // Nothing was sent or killed on the way.
  EXPECT_EQ(row_of(status(), "root/echo")["restarts"], 0);
}

TEST_F(DaemonCommands, TheDaemonsOwnProcessesAreRefusedAsProtected) {
  const std::string root = text_of(d.st().root());
  auto kill = client.call(line(40, "kill", {{"target", root}}));
  ASSERT_TRUE(is_error(kill, "protected")) << kill;
  EXPECT_NE(kill["error"]["message"].get<std::string>().find(root), std::string::npos) << kill;
  auto send = client.call(line(41, "send", {{"target", text_of(d.st().hub)}, {"term", ":hi"}}));
  EXPECT_TRUE(is_error(send, "protected")) << send;
  // Another client's session is not this client's to reach either (its pid known, as a
  // client learns it, from its `hello`).
  session_client other(d);
  ASSERT_EQ(other.call(line(1, "hello"))["result"]["self"], text_of(other.session()));
  auto theirs =
      client.call(line(42, "send", {{"target", text_of(other.session())}, {"term", ":hi"}}));
  EXPECT_TRUE(is_error(theirs, "protected")) << theirs;

  EXPECT_TRUE(d.rt().alive(d.st().root()));
  EXPECT_EQ(pid_at("root/echo").is_string(), true);
}

TEST_F(DaemonCommands, SendToAWorkerByIdReturnsItsReplyToTheSession) {
  auto r = client.call(
      line(50, "send", {{"target", "echo"}, {"term", "{self(), :ping}"}, {"await_ms", 20000}}));
  ASSERT_TRUE(r["ok"]) << r;
  EXPECT_EQ(r["result"]["sent"], true);
  EXPECT_EQ(r["result"]["replies"], json::array({"{:ok, :pong}"}));
}

TEST_F(DaemonCommands, AMessageNoSendAwaitedWaitsForFlush) {
  auto sent = client.call(line(51, "send", {{"target", "echo"}, {"term", "{self(), :ping}"}}));
  ASSERT_TRUE(sent["ok"]) << sent;
  EXPECT_TRUE(sent["result"]["replies"].empty());
  auto got = client.call(line(52, "receive", {{"timeout_ms", 20000}}));
  ASSERT_TRUE(got["ok"]) << got;
  EXPECT_EQ(got["result"]["message"], "{:ok, :pong}");
  auto flushed = client.call(line(53, "flush"));
  EXPECT_TRUE(flushed["result"]["messages"].empty()) << flushed;
}

TEST_F(DaemonCommands, AKilledWorkerIsRestartedAndStatusCountsIt) {
  const json before = pid_at("root/echo");
  auto r = client.call(line(60, "kill", {{"target", "echo"}}));
  ASSERT_TRUE(r["ok"]) << r;
  EXPECT_EQ(r["result"]["sent"], true);
  // The pid and the count may show up in either order: wait for both.
  json row;
  EXPECT_TRUE(vigil::test::eventually([&] {
    row = row_of(status(), "root/echo");
    return row["state"] == "running" && row["pid"].is_string() && row["pid"] != before
           && row["restarts"] == 1;
  })) << row;
}

TEST_F(DaemonCommands, InfoOfARunningWorkerNamesItsPathAndSupervisor) {
  // The daemon learns a child's place in the tree from its start, which may still be on its
  // way right after boot: `path` is there once it has.
  json info;
  ASSERT_TRUE(vigil::test::eventually([&] {
    auto r = client.call(line(70, "info", {{"target", "root/jobs/dispatcher"}}));
    info = r["result"]["info"];
    return r["ok"] == true && info.contains("path");
  })) << info;
  EXPECT_EQ(info["pid"], pid_at("root/jobs/dispatcher"));
  EXPECT_EQ(info["path"], "root/jobs/dispatcher");
  EXPECT_EQ(info["parent"], pid_at("root/jobs"));
  EXPECT_EQ(info["restarts"], 0);
  EXPECT_TRUE(info["exits"].is_array());
}

TEST_F(DaemonCommands, InfoOfAStoppedChildGivesItsStateWithoutAPid) {
  ASSERT_TRUE(client.call(line(71, "stop", {{"name", "echo"}}))["ok"]);
  auto r = client.call(line(72, "info", {{"target", "echo"}}));
  ASSERT_TRUE(r["ok"]) << r;
  json info = r["result"]["info"];
  EXPECT_EQ(info["path"], "root/echo");
  EXPECT_EQ(info["state"], "stopped");
  EXPECT_FALSE(info.contains("pid")) << info;
  EXPECT_TRUE(info["exits"].is_array());
}

constexpr std::string_view pool_config = R"(
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "pool"
type = "supervisor"
strategy = "simple_one_for_one"

  [[supervisor.children.children]]
  id = "sub"
  type = "supervisor"
  strategy = "one_for_one"

    [[supervisor.children.children.children]]
    id = "w"
    kind = "echo"
)";

TEST(DaemonDynamicPaths, APathThroughADynamicNestedSupervisorFindsItsChild) {
  daemon_fixture d{test_config(pool_config)};
  session_client client{d};
  auto started = client.call(line(1, "start", {{"name", "pool"}}));
  ASSERT_TRUE(started["ok"]) << started;
  json info;
  ASSERT_TRUE(vigil::test::eventually([&] {
    auto r = client.call(line(2, "info", {{"target", "root/pool/sub/w"}}));
    info = r["result"]["info"];
    return r["ok"] == true && info.contains("path");
  })) << info;
  EXPECT_EQ(info["path"], "root/pool/sub/w");
  auto sub = client.call(line(3, "info", {{"target", "root/pool/sub"}}));
  ASSERT_TRUE(sub["ok"]) << sub;
  EXPECT_EQ(info["parent"], sub["result"]["info"]["pid"]) << "its supervisor, the dynamic one";
}

TEST(DaemonDynamicPaths, StatusAndTreeListEachDynamicSupervisorsOwnChildrenUnderIt) {
  daemon_fixture d{test_config(pool_config)};
  session_client client{d};
  ASSERT_TRUE(client.call(line(1, "start", {{"name", "pool"}}))["ok"]);
  ASSERT_TRUE(client.call(line(2, "start", {{"name", "pool"}}))["ok"]);
  std::vector<std::string> paths;
  std::vector<std::string> pids;
  ASSERT_TRUE(vigil::test::eventually([&] {
    auto r = client.call(line(3, "status"));
    paths.clear();
    pids.clear();
    for (const auto& row : r["result"]["workers"]) {
      paths.push_back(row["path"]);
      pids.push_back(row.value("pid", std::string()));
    }
    return paths.size() == 5;
  })) << nlohmann::json(paths);
  // Each sub, then its own w: the twins' children are not merged nor listed twice.
  EXPECT_EQ(paths, (std::vector<std::string>{"root/pool", "root/pool/sub", "root/pool/sub/w",
                                             "root/pool/sub", "root/pool/sub/w"}));
  EXPECT_NE(pids[2], pids[4]) << "each w its own process";
  auto tree = client.call(line(4, "tree"));
  ASSERT_TRUE(tree["ok"]) << tree;
  const json& pool = tree["result"]["tree"]["children"][0];
  ASSERT_EQ(pool["children"].size(), 2U) << pool;
  std::vector<std::string> ws;
  for (const auto& sub : pool["children"]) {
    ASSERT_EQ(sub["children"].size(), 1U) << sub;
    ws.push_back(sub["children"][0]["pid"]);
  }
  EXPECT_NE(ws[0], ws[1]) << pool;
}

TEST_F(DaemonCommands, WhatASessionSpawnedEndsWithTheSession) {
  std::string spawned;
  {
    session_client shell(d);
    auto r = shell.call(line(100, "spawn", {{"kind", "echo"}}));
    ASSERT_TRUE(r["ok"]) << r;
    spawned = r["result"]["pid"];
    EXPECT_EQ(client.call(line(101, "alive", {{"target", spawned}}))["result"]["alive"], true);
  }
  EXPECT_TRUE(vigil::test::eventually([&] {
    return client.call(line(102, "alive", {{"target", spawned}}))["result"]["alive"] == false;
  }));
}

TEST_F(DaemonCommands, ADetachedSpawnOutlivesItsSessionAndTreeListsIt) {
  std::string spawned;
  std::string session;
  {
    session_client shell(d);
    session = text_of(shell.session());
    auto r = shell.call(line(103, "spawn", {{"kind", "echo"}, {"detach", true}}));
    ASSERT_TRUE(r["ok"]) << r;
    spawned = r["result"]["pid"];
  }
  ASSERT_TRUE(vigil::test::eventually([&] {
    return client.call(line(106, "alive", {{"target", session}}))["result"]["alive"] == false;
  }));
  auto tree = client.call(line(104, "tree"));
  ASSERT_EQ(tree["result"]["spawned"].size(), 1U) << tree;
  EXPECT_EQ(tree["result"]["spawned"][0]["pid"], spawned);
  EXPECT_EQ(tree["result"]["spawned"][0]["kind"], "echo");
  // A session that ends takes nothing detached along: the process still answers.
  auto r = client.call(
      line(105, "send", {{"target", spawned}, {"term", "{self(), :ping}"}, {"await_ms", 20000}}));
  EXPECT_EQ(r["result"]["replies"], json::array({"{:ok, :pong}"})) << r;
}

TEST_F(DaemonCommands, EventsListTheStartsOfTheTree) {
  json events;
  EXPECT_TRUE(vigil::test::eventually([&] {
    events = client.call(line(110, "events", {{"last", 1000}}))["result"]["events"];
    for (json e : events) {
      if (e["event"] == "process_started" && e["path"] == "root/jobs/dispatcher") {
        return true;
      }
    }
    return false;
  })) << events;
}

TEST_F(DaemonCommands, RepliesKeepRequestOrderAroundAMalformedLine) {
  client.send(line(80, "hello"));
  client.send("this is not json");
  client.send(line(82, "status", {{"names", {"echo"}}}));
  auto first = client.reply();
  auto second = client.reply();
  auto third = client.reply();
  EXPECT_EQ(first["id"], 80);
  EXPECT_TRUE(first["ok"]);
  EXPECT_TRUE(second["id"].is_null());
  EXPECT_TRUE(is_error(second, "bad_request")) << second;
  EXPECT_EQ(third["id"], 82);
  EXPECT_TRUE(third["ok"]) << third;
}

TEST_F(DaemonCommands, OnceTheDaemonStopsOnlyHelloIsServed) {
  d.st().stopping.store(true);
  auto status_reply = client.call(line(90, "status"));
  EXPECT_TRUE(is_error(status_reply, "shutting_down")) << status_reply;
  auto hello = client.call(line(91, "hello"));
  EXPECT_TRUE(hello["ok"]) << hello;
  d.st().stopping.store(false);
}

TEST_F(DaemonCommands, ShutdownAnswersThenAsksTheLoopToStop) {
  auto r = client.call(line(95, "shutdown"));
  ASSERT_TRUE(r["ok"]) << r;
  EXPECT_EQ(r["result"]["stopping"], true);
  EXPECT_TRUE(d.next_post(client.conn(), {post_kind::shutdown}));
}

} // namespace
} // namespace vigil::daemon::test
