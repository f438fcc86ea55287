// SPDX-License-Identifier: Apache-2.0
// The shell session against a miniature vigild that plays the blog's world: a session
// process with a mailbox, echo workers that answer {pid, _} with {:ok, :pong}, exit signals.
// The transcript is the inspiration's, line for line.
#include "vigil/ctl/shell.hpp"

#include "vigil/term/text.hpp"

#include "fake_daemon.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <sstream>

namespace {

using namespace std::chrono_literals;
using vigil::ctl::client;
using vigil::ctl::json;
using vigil::ctl::testing::error_reply;
using vigil::ctl::testing::fake_daemon;
using vigil::ctl::testing::ok_reply;
using vigil::ctl::testing::response;

/// The daemon side of the blog, reduced to what the shell can observe.
class mini_vigild {
public:
  response handle(const json& req) {
    std::lock_guard lock(mutex_);
    const std::string cmd = req.value("cmd", "");
    const json args = req.value("args", json::object());
    const std::string target = args.value("target", "");
    if (cmd == "hello") {
      return reply(req, {{"daemon", "vigild"},
                         {"version", "0.1.0"},
                         {"protocol", 1},
                         {"self", session_},
                         {"pid", 1234}});
    }
    if (cmd == "spawn") {
      std::string pid = "#PID<0." + std::to_string(next_index_++) + ".0>";
      alive_[pid] = true;
      return reply(req, {{"pid", pid}});
    }
    if (cmd == "send") {
      deliver(target, args.value("term", ""));
      return reply(req, {{"sent", true}, {"replies", json::array()}});
    }
    if (cmd == "flush") {
      json messages = mailbox_;
      mailbox_.clear();
      return reply(req, {{"messages", messages}});
    }
    if (cmd == "receive") {
      if (mailbox_.empty()) {
        return reply(req, {{"message", nullptr}});
      }
      std::string first = mailbox_.front();
      mailbox_.erase(mailbox_.begin());
      return reply(req, {{"message", first}});
    }
    if (cmd == "alive") {
      return reply(req, {{"alive", alive_[target]}});
    }
    if (cmd == "kill") {
      alive_[target] = false;
      if (target == session_) {
        session_ = "#PID<0." + std::to_string(next_session_++) + ".0>";
        alive_[session_] = true;
        mailbox_.clear();
        return response{{ok_reply(req, {{"sent", true}})}, true};
      }
      return reply(req, {{"sent", true}});
    }
    if (cmd == "info") {
      if (!alive_[target]) {
        return response{{error_reply(req, "not_found", "no process " + target)}};
      }
      return reply(req, {{"info",
                          {{"current_function", "echo.cpp:12 (loop)"},
                           {"initial_call", "echo"},
                           {"status", "waiting"},
                           {"message_queue_len", 0},
                           {"messages", json::array()},
                           {"links", json::array()},
                           {"trap_exit", false}}}});
    }
    if (cmd == "tree") {
      return reply(req, {{"tree",
                          {{"id", "root"},
                           {"pid", "#PID<0.50.0>"},
                           {"type", "supervisor"},
                           {"strategy", "one_for_one"},
                           {"state", "running"},
                           {"children",
                            {{{"id", "echo"},
                              {"pid", "#PID<0.60.0>"},
                              {"type", "worker"},
                              {"state", "running"}}}}}}});
    }
    return response{{error_reply(req, "unknown_command", "no command " + cmd)}};
  }

private:
  static response reply(const json& req, const json& result) { return {{ok_reply(req, result)}}; }

  // Sends `term` to `target`: the session keeps it; a live echo worker answers {from, _}.
  void deliver(const std::string& target, const std::string& term) {
    if (target == session_) {
      mailbox_.push_back(term);
      return;
    }
    auto parsed = vigil::parse_term(term);
    if (alive_[target] && parsed && parsed->is_tuple() && parsed->size() == 2
        && (*parsed)[0].is_pid() && vigil::to_string((*parsed)[0]) == session_) {
      mailbox_.push_back("{:ok, :pong}");
    }
  }

  std::mutex mutex_;
  std::string session_ = "#PID<0.57.0>";
  std::map<std::string, bool> alive_{{"#PID<0.57.0>", true}};
  std::vector<std::string> mailbox_;
  int next_index_ = 74;
  int next_session_ = 58;
};

struct transcript {
  int status = 0;
  std::string out;
  std::string err;
  int connections = 0;
};

transcript run_lines(const std::vector<std::string>& lines, bool json_output = false) {
  mini_vigild world;
  fake_daemon daemon([&world](const json& req) { return world.handle(req); });
  auto c = client::connect(daemon.path());
  EXPECT_TRUE(c);
  vigil::ctl::shell_options opts;
  opts.json = json_output;
  opts.timeout = 5s;
  opts.reconnect = [&daemon] { return client::connect(daemon.path()); };
  std::ostringstream out;
  std::ostringstream err;
  vigil::ctl::shell_session session(std::move(*c), opts, out, err);
  EXPECT_TRUE(session.start());
  std::size_t next = 0;
  int status = vigil::ctl::run_shell(
      session,
      [&](const std::string& prompt) -> std::optional<std::string> {
        EXPECT_EQ(prompt, ""); // no prompts when not interactive
        return next < lines.size() ? std::optional(lines[next++]) : std::nullopt;
      },
      out);
  return {status, out.str(), err.str(), daemon.connections()};
}

TEST(ShellSession, RunsTheBlogTranscript) {
  transcript t = run_lines({
      "iex(1)> self",
      "iex(2)> send(self, \"hello\")",
      "iex(3)> flush",
      "pid = spawn(:echo)",
      "iex(3)> send(pid, {self, :ok})",
      "iex(4)> flush",
      "iex(18)> send(pid, {self, :ok})",
      "iex(19)> send(pid, {self, :ok})",
      "iex(20)> flush",
      "iex(31)> Process.exit(pid, :kill)",
      "iex(32)> Process.alive? pid",
      "iex(33)> send(pid, {self, :ok})",
      "iex(35)> flush",
      "iex(40)> self",
      "iex(41)> Process.exit(self, :exit)",
      "iex(1)> self",
      "iex(2)> pid = spawn(:echo)",
      "iex(4)> Process.info(pid)",
      "iex(4)> :observer.start",
      "receive 10",
  });
  EXPECT_EQ(t.out,
            "#PID<0.57.0>\n"
            "\"hello\"\n"
            "\"hello\"\n"
            ":ok\n"
            "#PID<0.74.0>\n"
            "{#PID<0.57.0>, :ok}\n"
            "{:ok, :pong}\n"
            ":ok\n"
            "{#PID<0.57.0>, :ok}\n"
            "{#PID<0.57.0>, :ok}\n"
            "{:ok, :pong}\n"
            "{:ok, :pong}\n"
            ":ok\n"
            "true\n"
            "false\n"
            "{#PID<0.57.0>, :ok}\n"
            ":ok\n"
            "#PID<0.57.0>\n"
            "** (EXIT from #PID<0.57.0>) :exit\n"
            "\n"
            "#PID<0.58.0>\n"
            "#PID<0.75.0>\n"
            "[current_function: \"echo.cpp:12 (loop)\", initial_call: :echo, status: :waiting,\n"
            " message_queue_len: 0, messages: [], links: [], trap_exit: false]\n"
            "root     #PID<0.50.0>  supervisor  one_for_one  running\n"
            "└─ echo  #PID<0.60.0>  worker      -            running\n"
            ":ok\n"
            ":timeout\n");
  EXPECT_EQ(t.err, "");
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.connections, 2); // one more after the session process died
}

TEST(ShellSession, AnUnfinishedTermContinuesOnTheNextLine) {
  transcript t = run_lines({"msg = {self,", "  :ok", "}", "msg"});
  EXPECT_EQ(t.err, "");
  EXPECT_EQ(t.out, "{#PID<0.57.0>, :ok}\n{#PID<0.57.0>, :ok}\n");
}

TEST(ShellSession, CtrlCDropsTheLineAndTheShellGoesOn) {
  transcript t =
      run_lines({"{1,", vigil::ctl::cancelled_line, "2", vigil::ctl::cancelled_line, ":after"});
  EXPECT_EQ(t.err, "");
  EXPECT_EQ(t.out, "2\n:after\n");
  EXPECT_EQ(t.status, 0);
}

TEST(ShellSession, InputThatEndsInsideAnExpressionIsAnError) {
  transcript t = run_lines({"{self, :ok"});
  EXPECT_NE(t.err.find("SyntaxError"), std::string::npos) << t.err;
}

TEST(ShellSession, TabCompletesFunctionsVariablesAndSelf) {
  mini_vigild world;
  fake_daemon daemon([&world](const json& req) { return world.handle(req); });
  auto c = client::connect(daemon.path());
  ASSERT_TRUE(c);
  std::ostringstream out;
  std::ostringstream err;
  vigil::ctl::shell_session session(std::move(*c), vigil::ctl::shell_options{}, out, err);
  ASSERT_TRUE(session.start());
  ASSERT_TRUE(session.eval("pid_of_echo = spawn(:echo)"));
  EXPECT_EQ(session.completions("Process.i"), (std::vector<std::string>{"Process.info"}));
  EXPECT_EQ(session.completions("pid_"), (std::vector<std::string>{"pid_of_echo"}));
  EXPECT_EQ(session.completions("se"), (std::vector<std::string>{"self", "send"}));
}

TEST(ShellSession, VariablesHoldResults) {
  transcript t = run_lines({"pid = spawn(:echo)", "me = self", "msg = {me, :ok}", "send(pid, msg)",
                            "receive(100)", "ok = Process.alive?(pid)", "ok"});
  EXPECT_EQ(t.out, "#PID<0.74.0>\n#PID<0.57.0>\n{#PID<0.57.0>, :ok}\n{#PID<0.57.0>, :ok}\n"
                   "{:ok, :pong}\ntrue\ntrue\n");
  EXPECT_EQ(t.status, 0);
}

TEST(ShellSession, InfoOfADeadProcessIsNil) {
  transcript t = run_lines({"pid = spawn(:echo)", "Process.exit(pid, :kill)", "Process.info(pid)"});
  EXPECT_EQ(t.out, "#PID<0.74.0>\ntrue\nnil\n");
}

TEST(ShellSession, ErrorsGoToStderrAndTheScriptGoesOn) {
  transcript t =
      run_lines({"flsh", "send(echo, :hi)", "Process.whereis(:nobody)", "self", "exit", "self"});
  EXPECT_EQ(t.out, ":hi\n#PID<0.57.0>\n"); // send prints the message; the shell stops at exit
  EXPECT_NE(t.err.find("** (CompileError) undefined function or variable \"flsh\""),
            std::string::npos);
  EXPECT_NE(t.err.find("** (unknown_command) no command registered"), std::string::npos);
  EXPECT_EQ(t.status, 1); // a line failed and the shell is not interactive
}

TEST(ShellSession, JsonPrintsResults) {
  transcript t = run_lines({"self", "pid = spawn(:echo)"}, true);
  EXPECT_EQ(t.out, "{\"value\":\"#PID<0.57.0>\"}\n{\"pid\":\"#PID<0.74.0>\"}\n");
}

TEST(ShellPresent, PrintsRepliesAsIexWould) {
  using vigil::ctl::present_reply;
  using vigil::ctl::reply_style;
  vigil::ctl::shell_action a;
  a.style = reply_style::whereis;
  a.value = "echo";
  json names = {{"names", {{{"name", "echo"}, {"pid", "#PID<0.60.0>"}}}}};
  EXPECT_EQ(present_reply(a, names).value, "#PID<0.60.0>");
  a.value = "web";
  EXPECT_EQ(present_reply(a, names).value, "nil");
  a.style = reply_style::registered;
  EXPECT_EQ(present_reply(a, names).display, "[:echo]\n");
  a.style = reply_style::info_key;
  a.value = "messages";
  EXPECT_EQ(present_reply(a, {{"info", {{"messages", {"{:a, 1}"}}}}}).value,
            "{:messages, [{:a, 1}]}");
  a.style = reply_style::received;
  EXPECT_EQ(present_reply(a, {{"message", "{:ok, :pong}"}}).value, "{:ok, :pong}");
  EXPECT_EQ(present_reply(a, {{"message", nullptr}}).value, ":timeout");
  a.style = reply_style::flush;
  EXPECT_EQ(present_reply(a, {{"messages", json::array()}}).display, ":ok\n");
}

} // namespace
