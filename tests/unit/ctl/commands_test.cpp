// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/commands.hpp"

#include "vigil/protocol/command_table.hpp"
#include "vigil/protocol/request.hpp"

#include "fake_daemon.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace {

using namespace std::chrono_literals;
using vigil::ctl::exit_code;
using vigil::ctl::invocation;
using vigil::ctl::json;
using vigil::ctl::make_request;
using vigil::ctl::testing::error_reply;
using vigil::ctl::testing::fake_daemon;
using vigil::ctl::testing::ok_reply;
using vigil::ctl::testing::response;

invocation command(std::string name, std::string target = {}, std::string term = {}) {
  invocation inv;
  inv.command = std::move(name);
  inv.target = std::move(target);
  inv.term = std::move(term);
  return inv;
}

json request_of(const invocation& inv) {
  auto req = make_request(inv);
  EXPECT_TRUE(req) << inv.command << ": " << (req ? "" : req.error().message);
  return req ? json{{"cmd", req->cmd}, {"args", req->args}} : json();
}

TEST(CtlCommands, EachCommandMapsToItsRequest) {
  invocation status = command("status");
  EXPECT_EQ(request_of(status), (json{{"cmd", "status"}, {"args", json::object()}}));
  status.names = {"echo", "root/web"};
  EXPECT_EQ(request_of(status)["args"], (json{{"names", {"echo", "root/web"}}}));
  EXPECT_EQ(request_of(command("tree"))["cmd"], "tree");
  EXPECT_EQ(request_of(command("info", "<0.74.0>"))["args"], (json{{"target", "<0.74.0>"}}));
  EXPECT_EQ(request_of(command("shutdown"))["cmd"], "shutdown");
  EXPECT_EQ(request_of(command("registered"))["cmd"], "registered");
}

// vigilctl and vigild share the protocol's command table: whatever vigilctl sends, with every
// option it offers, vigild takes; and a command only the shell reaches is none of vigilctl's.
TEST(CtlCommands, EveryCommandOfTheTableBuildsARequestTheDaemonTakes) {
  for (const auto& c : vigil::protocol::command_table()) {
    invocation inv = command(std::string(c.name), "echo", ":ok");
    if (c.reached != vigil::protocol::reach::cli) {
      EXPECT_FALSE(make_request(inv)) << c.name;
      continue;
    }
    inv.names = {"echo"};
    inv.await = 1s;
    inv.lines = 5;
    inv.follow = true;
    inv.dry_run = true;
    json req = request_of(inv);
    std::string line = json{{"v", 1}, {"id", 1}, {"cmd", req["cmd"]}, {"args", req["args"]}}.dump();
    auto parsed = vigil::protocol::parse_request(line);
    ASSERT_TRUE(parsed) << line << ": " << parsed.error().message;
    EXPECT_EQ(parsed->cmd, c.cmd);
  }
}

TEST(CtlCommands, WorkerVerbsNameTheWorker) {
  for (const char* verb : {"start", "stop", "restart"}) {
    EXPECT_EQ(request_of(command(verb, "echo")),
              (json{{"cmd", verb}, {"args", {{"name", "echo"}}}}));
  }
}

TEST(CtlCommands, KillDefaultsToTheKillReason) {
  EXPECT_EQ(request_of(command("kill", "echo"))["args"],
            (json{{"target", "echo"}, {"reason", ":kill"}}));
  EXPECT_EQ(request_of(command("kill", "#PID<0.74.0>", ":shutdown"))["args"],
            (json{{"target", "#PID<0.74.0>"}, {"reason", ":shutdown"}}));
}

TEST(CtlCommands, SendCarriesSelfToTheDaemonAndAwaitsReplies) {
  invocation send = command("send", "echo", "{self(), :ok}");
  EXPECT_EQ(request_of(send)["args"], (json{{"target", "echo"}, {"term", "{self(), :ok}"}}));
  send.await = 1s;
  auto req = make_request(send);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->args["await_ms"], 1000);
  EXPECT_EQ(req->extra_wait, 1s);
}

TEST(CtlCommands, BadTermTextIsAUsageError) {
  for (const invocation& inv : {command("send", "echo", "{self(), :ok"),
                                command("kill", "echo", "{"), command("spawn", "echo", "[1,")}) {
    auto req = make_request(inv);
    ASSERT_FALSE(req) << inv.command;
    EXPECT_EQ(req.error().exit, exit_code::usage);
  }
  EXPECT_FALSE(make_request(command("frobnicate")));
}

TEST(CtlCommands, LogsEventsReloadAndSpawnArguments) {
  invocation logs = command("logs", "web");
  EXPECT_EQ(request_of(logs)["args"], (json{{"name", "web"}}));
  logs.lines = 10;
  logs.follow = true;
  EXPECT_EQ(request_of(logs)["args"], (json{{"name", "web"}, {"lines", 10}, {"follow", true}}));
  invocation events = command("events");
  events.lines = 5;
  events.follow = true;
  EXPECT_EQ(request_of(events)["args"], (json{{"last", 5}, {"follow", true}}));
  invocation reload = command("reload");
  EXPECT_EQ(request_of(reload)["args"], json::object());
  reload.dry_run = true;
  EXPECT_EQ(request_of(reload)["args"], (json{{"dry_run", true}}));
  EXPECT_EQ(request_of(command("spawn", "echo"))["args"],
            (json{{"kind", "echo"}, {"detach", true}}));
  EXPECT_EQ(request_of(command("spawn", "echo", "[delay: 5]"))["args"],
            (json{{"kind", "echo"}, {"detach", true}, {"args", "[delay: 5]"}}));
}

struct run_result {
  int status;
  std::string out;
  std::string err;
};

run_result run_against(fake_daemon& daemon, const invocation& inv, bool json_output = false) {
  vigil::ctl::client c(daemon.connect_pair());
  vigil::ctl::global_options opts;
  opts.json = json_output;
  opts.timeout = 5s;
  std::ostringstream out;
  std::ostringstream err;
  int status = vigil::ctl::run_command(c, inv, opts, out, err);
  return {status, out.str(), err.str()};
}

TEST(CtlCommands, SendAwaitPrintsTheReplies) {
  fake_daemon daemon([](const json& req) {
    return response{{ok_reply(req, {{"sent", true}, {"replies", {"{:ok, :pong}"}}})}};
  });
  invocation send = command("send", "echo", "{self(), :ok}");
  send.await = 1s;
  run_result r = run_against(daemon, send);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "{:ok, :pong}\n");
  EXPECT_EQ(r.err, "");
}

TEST(CtlCommands, JsonPrintsTheResultObject) {
  fake_daemon daemon([](const json& req) {
    return response{{ok_reply(req, {{"pid", "#PID<0.80.0>"}})}};
  });
  run_result r = run_against(daemon, command("restart", "echo"), true);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "{\"pid\":\"#PID<0.80.0>\"}\n");
}

TEST(CtlCommands, ActionsSayWhatHappened) {
  fake_daemon daemon([](const json& req) {
    return response{{ok_reply(req, {{"pid", "#PID<0.80.0>"}, {"sent", true}, {"stopping", true}})}};
  });
  EXPECT_EQ(run_against(daemon, command("start", "echo")).out, "echo: started, #PID<0.80.0>\n");
  EXPECT_EQ(run_against(daemon, command("stop", "echo")).out, "echo: stopped\n");
  EXPECT_EQ(run_against(daemon, command("kill", "echo")).out, "echo: sent exit signal :kill\n");
  EXPECT_EQ(run_against(daemon, command("spawn", "echo")).out, "#PID<0.80.0>\n");
  EXPECT_EQ(run_against(daemon, command("shutdown")).out, "vigild: stopping\n");
}

TEST(CtlCommands, DaemonErrorsExitOneWithTheirCode) {
  fake_daemon daemon([](const json& req) {
    return response{{error_reply(req, "not_found", "no worker named 'ech'")}};
  });
  run_result r = run_against(daemon, command("info", "ech"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "vigilctl: not_found: no worker named 'ech'\n");
  run_result j = run_against(daemon, command("info", "ech"), true);
  EXPECT_EQ(j.out, R"({"error":{"code":"not_found","message":"no worker named 'ech'"}})"
                   "\n");
}

TEST(CtlCommands, FollowPrintsEventsUntilTheDaemonCloses) {
  std::string log =
      R"({"v":1,"event":"log","ts":"t1","path":"root/web","stream":"stdout","line":"up"})";
  fake_daemon daemon([log](const json& req) {
    return response{
        {ok_reply(req, {{"lines", {{{"ts", "t0"}, {"stream", "stderr"}, {"line", "boot"}}}}}), log},
        true};
  });
  invocation logs = command("logs", "web");
  logs.follow = true;
  run_result r = run_against(daemon, logs);
  EXPECT_EQ(r.out, "t0  stderr  boot\nt1  stdout  up\n");
  EXPECT_EQ(r.status, static_cast<int>(exit_code::cannot_connect));
  EXPECT_NE(r.err.find("closed"), std::string::npos);
}

TEST(CtlCommands, RunReportsUsageBeforeConnecting) {
  vigil::ctl::global_options opts;
  opts.socket = "/nonexistent-vigil-dir/control.sock";
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(vigil::ctl::run(command("send", "echo", "{"), opts, out, err), 2);
  EXPECT_NE(err.str().find("vigilctl: usage: invalid TERM"), std::string::npos);
  std::ostringstream err2;
  EXPECT_EQ(vigil::ctl::run(command("status"), opts, out, err2), 3);
  EXPECT_NE(err2.str().find("vigilctl: fatal: unable to connect to "
                            "/nonexistent-vigil-dir/control.sock"),
            std::string::npos);
}

TEST(CtlCommands, RunConnectsToTheSocketOption) {
  fake_daemon daemon([](const json& req) {
    return response{{ok_reply(req, {{"workers", json::array()}})}};
  });
  vigil::ctl::global_options opts;
  opts.socket = daemon.path();
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(vigil::ctl::run(command("status"), opts, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), "PATH  PID  STATE  RESTARTS  UPTIME  KIND  MODE  OS_PID\n");
}

} // namespace
