// SPDX-License-Identifier: Apache-2.0
// Each line of the inspiration (shared/inspiration/elixir-processes.md) that the shell can
// run, translated into the protocol request it sends or the local action it takes.
#include "vigil/ctl/shell_parse.hpp"

#include "vigil/protocol/request.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using vigil::ctl::json;
using vigil::ctl::reply_style;
using vigil::ctl::shell_action;
using vigil::ctl::shell_context;
using vigil::ctl::shell_op;

shell_context iex_context() {
  shell_context ctx;
  ctx.self = "#PID<0.57.0>";
  ctx.variables = {{"pid", "#PID<0.74.0>"}, {"server_pid", "#PID<0.80.0>"}};
  return ctx;
}

shell_action translate(std::string_view line) {
  auto action = vigil::ctl::translate_line(line, iex_context());
  EXPECT_TRUE(action) << line << ": " << (action ? "" : action.error());
  return action ? *action : shell_action{};
}

std::string error_of(std::string_view line) {
  auto action = vigil::ctl::translate_line(line, iex_context());
  EXPECT_FALSE(action) << line;
  return action ? std::string() : action.error();
}

void expect_call(const shell_action& a, const char* cmd, const json& args, reply_style style) {
  EXPECT_EQ(a.op, shell_op::call);
  EXPECT_EQ(a.cmd, cmd);
  EXPECT_EQ(a.args, args) << a.args.dump();
  EXPECT_EQ(a.style, style);
}

TEST(ShellParse, SelfIsTheSessionPid) {
  for (const char* line : {"self", "self()", "iex(1)> self", "  self  "}) {
    shell_action a = translate(line);
    EXPECT_EQ(a.op, shell_op::value) << line;
    EXPECT_EQ(a.value, "#PID<0.57.0>") << line;
  }
}

TEST(ShellParse, SendToSelfSendsAndEchoesTheMessage) {
  shell_action a = translate("send(self, \"hello\")");
  expect_call(a, "send", {{"target", "#PID<0.57.0>"}, {"term", "\"hello\""}}, reply_style::sent);
  EXPECT_EQ(a.value, "\"hello\"");
}

TEST(ShellParse, SendReplacesVariablesAndSelfInTheMessage) {
  for (const char* line : {"send(pid, {self, :ok})", "iex(3)> send(pid, {self, :ok})",
                           "send pid, {self(), :ok}", "send(pid,{self,:ok})"}) {
    shell_action a = translate(line);
    expect_call(a, "send", {{"target", "#PID<0.74.0>"}, {"term", "{#PID<0.57.0>, :ok}"}},
                reply_style::sent);
    EXPECT_EQ(a.value, "{#PID<0.57.0>, :ok}") << line;
  }
  shell_action ping = translate("iex(7)> send(server_pid, {self, :ping})");
  EXPECT_EQ(ping.args["target"], "#PID<0.80.0>");
  EXPECT_EQ(ping.args["term"], "{#PID<0.57.0>, :ping}");
}

TEST(ShellParse, SendTargetsNamesAndPaths) {
  EXPECT_EQ(translate("send(:echo, :hi)").args["target"], ":echo");
  EXPECT_EQ(translate("send(echo, :hi)").args["target"], "echo");
  EXPECT_EQ(translate("send(\"root/pool/worker_1\", :hi)").args["target"], "root/pool/worker_1");
  EXPECT_EQ(translate("send(<0.74.0>, :hi)").args["target"], "#PID<0.74.0>");
}

// The shell and vigild share the protocol's command table: each builtin that calls the daemon
// sends a request the daemon takes.
TEST(ShellParse, EveryBuiltinThatCallsTheDaemonSendsARequestItTakes) {
  for (const char* line :
       {"send(pid, {self, :ping})", "flush", "flush()", "pid = spawn(:echo)",
        "spawn(:echo, %{delay: 100})", "Process.alive?(pid)", "Process.exit(pid, :kill)",
        "Process.info(pid)", "Process.whereis(:echo)", "Process.registered()", "receive",
        "receive(500)", ":observer.start"}) {
    shell_action a = translate(line);
    ASSERT_EQ(a.op, shell_op::call) << line;
    json request = {{"v", 1}, {"id", 1}, {"cmd", a.cmd}, {"args", a.args}};
    auto parsed = vigil::protocol::parse_request(request.dump());
    EXPECT_TRUE(parsed) << line << ": " << request.dump() << ": "
                        << (parsed ? "" : parsed.error().message);
  }
}

TEST(ShellParse, FlushAsksForTheMailbox) {
  for (const char* line : {"flush", "flush()", "iex(4)> flush", "ex(15)> flush"}) {
    expect_call(translate(line), "flush", json::object(), reply_style::flush);
  }
}

TEST(ShellParse, SpawnStartsAWorkerKindAndBindsItsPid) {
  shell_action a = translate("pid = spawn(:echo)");
  expect_call(a, "spawn", {{"kind", "echo"}}, reply_style::pid);
  EXPECT_EQ(a.bind, "pid");
  expect_call(translate("spawn(\"echo\", [delay: 1000])"), "spawn",
              {{"kind", "echo"}, {"args", "[{:delay, 1000}]"}}, reply_style::pid);
  EXPECT_EQ(translate("server_pid = spawn(:basic_server)").bind, "server_pid");
}

TEST(ShellParse, SpawnOfElixirCodeExplainsWhatToDoInstead) {
  EXPECT_NE(error_of("pid = spawn(ElixirTest.BasicWorker, :loop, [])").find("spawn(:echo)"),
            std::string::npos);
  EXPECT_NE(error_of("pid = spawn(fn -> IO.puts \"im alive\" end)").find("spawn(:echo)"),
            std::string::npos);
  EXPECT_NE(error_of("c(\"processes.ex\")").find("compiles no code"), std::string::npos);
  EXPECT_NE(error_of("r(ElixirTest.BasicWorker)").find("compiles no code"), std::string::npos);
}

TEST(ShellParse, AliveWithAndWithoutParentheses) {
  for (const char* line :
       {"Process.alive? pid", "Process.alive?(pid)", "iex(32)> Process.alive? pid"}) {
    expect_call(translate(line), "alive", {{"target", "#PID<0.74.0>"}}, reply_style::alive);
  }
}

TEST(ShellParse, ExitSendsAnExitSignal) {
  shell_action a = translate("iex(31)> Process.exit(pid, :kill)");
  expect_call(a, "kill", {{"target", "#PID<0.74.0>"}, {"reason", ":kill"}}, reply_style::exited);
  EXPECT_FALSE(a.exits_self);
}

TEST(ShellParse, ExitOfSelfIsMarked) {
  shell_action a = translate("iex(41)> Process.exit(self, :exit)");
  expect_call(a, "kill", {{"target", "#PID<0.57.0>"}, {"reason", ":exit"}}, reply_style::exited);
  EXPECT_TRUE(a.exits_self);
}

TEST(ShellParse, InfoAsksAboutAProcess) {
  expect_call(translate("iex(4)> Process.info(pid)"), "info", {{"target", "#PID<0.74.0>"}},
              reply_style::info);
  expect_call(translate("Process.info(server_pid)"), "info", {{"target", "#PID<0.80.0>"}},
              reply_style::info);
  shell_action key = translate("Process.info(pid, :messages)");
  expect_call(key, "info", {{"target", "#PID<0.74.0>"}}, reply_style::info_key);
  EXPECT_EQ(key.value, "messages");
}

TEST(ShellParse, ObserverPrintsTheTree) {
  for (const char* line : {":observer.start", ":observer.start()", "iex(4)> :observer.start"}) {
    expect_call(translate(line), "tree", json::object(), reply_style::tree);
  }
}

TEST(ShellParse, ReceiveWaitsWithATimeout) {
  shell_action a = translate("receive 1000");
  expect_call(a, "receive", {{"timeout_ms", 1000}}, reply_style::received);
  EXPECT_EQ(a.duration, 1000ms);
  EXPECT_EQ(translate("receive(250)").args["timeout_ms"], 250);
  EXPECT_EQ(translate("receive 2s").args["timeout_ms"], 2000);
  EXPECT_EQ(translate("receive").args["timeout_ms"], 5000);
}

TEST(ShellParse, SleepIsLocal) {
  for (const char* line : {"Process.sleep(100)", ":timer.sleep(100)", "Process.sleep 100"}) {
    shell_action a = translate(line);
    EXPECT_EQ(a.op, shell_op::sleep) << line;
    EXPECT_EQ(a.duration, 100ms) << line;
  }
}

TEST(ShellParse, RegisteredNames) {
  expect_call(translate("Process.registered"), "registered", json::object(),
              reply_style::registered);
  shell_action a = translate("Process.whereis(:echo)");
  expect_call(a, "registered", json::object(), reply_style::whereis);
  EXPECT_EQ(a.value, "echo");
}

TEST(ShellParse, HelpExitAndBlankLines) {
  EXPECT_EQ(translate("h").op, shell_op::help);
  EXPECT_EQ(translate("help").op, shell_op::help);
  EXPECT_EQ(translate("h()").op, shell_op::help);
  EXPECT_EQ(translate("exit").op, shell_op::quit);
  EXPECT_EQ(translate("").op, shell_op::nothing);
  EXPECT_EQ(translate("   ").op, shell_op::nothing);
  EXPECT_EQ(translate("# a comment").op, shell_op::nothing);
  EXPECT_EQ(translate("iex(5)>").op, shell_op::nothing);
}

TEST(ShellParse, TermsPrintBackWithVariablesReplaced) {
  EXPECT_EQ(translate("{:ok, :pong}").value, "{:ok, :pong}");
  EXPECT_EQ(translate("{ :ok,[1,2] } # trailing comment").value, "{:ok, [1, 2]}");
  EXPECT_EQ(translate("pid").value, "#PID<0.74.0>");
  EXPECT_EQ(translate("%{key: pid}").value, "%{key: #PID<0.74.0>}");
  EXPECT_EQ(translate("\"# not a comment\"").value, "\"# not a comment\"");
  EXPECT_EQ(translate("#PID<0.1.0>").value, "#PID<0.1.0>");
}

TEST(ShellParse, AssignmentBindsAnyValue) {
  shell_action a = translate("msg = {:hello, self}");
  EXPECT_EQ(a.op, shell_op::value);
  EXPECT_EQ(a.value, "{:hello, #PID<0.57.0>}");
  EXPECT_EQ(a.bind, "msg");
  EXPECT_EQ(translate("me = self").bind, "me");
  EXPECT_EQ(translate("ok? = Process.alive?(pid)").bind, "ok?");
}

TEST(ShellParse, ComparisonsAreNotAssignments) {
  EXPECT_NE(error_of("pid == pid").find("SyntaxError"), std::string::npos);
}

TEST(ShellParse, ReportsMistakesAsIexDoes) {
  EXPECT_NE(error_of("flsh").find("undefined function or variable \"flsh\""), std::string::npos);
  EXPECT_NE(error_of("send(pid, {slef, :ok})").find("undefined variable \"slef\""),
            std::string::npos);
  EXPECT_NE(error_of("send(pid)").find("send/1 is undefined"), std::string::npos);
  EXPECT_NE(error_of("send(pid, {self, :ok}").find("SyntaxError"), std::string::npos);
  EXPECT_NE(error_of("send(pid, {self, :ok}) extra").find("SyntaxError"), std::string::npos);
  EXPECT_NE(error_of("self = 1").find("cannot assign"), std::string::npos);
  EXPECT_NE(error_of("Process.alive?(42)").find("expected a pid or a name"), std::string::npos);
  EXPECT_NE(error_of("receive :soon").find("milliseconds"), std::string::npos);
  EXPECT_NE(error_of("x = h").find("nothing to assign"), std::string::npos);
}

TEST(ShellParse, AnOpenBracketOrQuoteNeedsMoreInput) {
  using vigil::ctl::needs_more_input;
  EXPECT_TRUE(needs_more_input("{self(), :ok"));
  EXPECT_TRUE(needs_more_input("send(pid, [1,"));
  EXPECT_TRUE(needs_more_input("\"an open string"));
  EXPECT_TRUE(needs_more_input("%{a: 1,\n b: 2"));
  EXPECT_FALSE(needs_more_input("{self(), :ok}"));
  EXPECT_FALSE(needs_more_input("send(pid, {self, :ok}) # (a comment"));
  EXPECT_FALSE(needs_more_input("\"{ in a string\""));
  EXPECT_FALSE(needs_more_input("#PID<0.1.2>"));
  EXPECT_FALSE(needs_more_input("[1]]")); // a stray closer is an error, not more input
  EXPECT_FALSE(needs_more_input(""));
}

TEST(ShellParse, SplitsArgumentsAtTopLevelCommas) {
  auto parts = vigil::ctl::split_arguments(" pid , {self, :ok}, \"a, b\", [1, 2], 'x,y' ");
  ASSERT_TRUE(parts);
  EXPECT_EQ(*parts,
            (std::vector<std::string>{"pid", "{self, :ok}", "\"a, b\"", "[1, 2]", "'x,y'"}));
  EXPECT_TRUE(vigil::ctl::split_arguments("")->empty());
  EXPECT_FALSE(vigil::ctl::split_arguments("{1, 2"));
  EXPECT_FALSE(vigil::ctl::split_arguments("[1}"));
  EXPECT_FALSE(vigil::ctl::split_arguments("\"open"));
}

} // namespace
