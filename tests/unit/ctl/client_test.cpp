// SPDX-License-Identifier: Apache-2.0
// The client against canned protocol lines: a conformance test of vigilctl's side of
// docs/protocol.md.
#include "vigil/ctl/client.hpp"

#include "fake_daemon.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using vigil::ctl::client;
using vigil::ctl::dump_json;
using vigil::ctl::exit_code;
using vigil::ctl::json;
using vigil::ctl::testing::error_reply;
using vigil::ctl::testing::fake_daemon;
using vigil::ctl::testing::ok_reply;
using vigil::ctl::testing::response;

constexpr auto patience = 5s;

fake_daemon::handler_fn answer(const json& result) {
  return [result](const json& req) { return response{{ok_reply(req, result)}}; };
}

TEST(CtlClient, SendsOneVersionedLineAndReturnsTheResult) {
  fake_daemon daemon(answer({{"workers", json::array()}}));
  client c(daemon.connect_pair());
  auto reply = c.call("status", {{"names", {"echo"}}}, patience);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(*reply, (json{{"workers", json::array()}}));
  auto requests = daemon.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0],
            (json{{"v", 1}, {"id", 1}, {"cmd", "status"}, {"args", {{"names", {"echo"}}}}}));
}

TEST(CtlClient, ReadsAReplyLineOfManyMegabytes) {
  // vigild streams replies of any size (an info of a full mailbox): 4 MiB is no limit.
  std::string big(std::size_t{6} << 20, 'x');
  fake_daemon daemon(answer({{"blob", big}}));
  client c(daemon.connect_pair());
  auto reply = c.call("info", {{"target", "self"}}, 60s);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ((*reply)["blob"].get<std::string>().size(), big.size());
}

TEST(CtlClient, OmitsEmptyArgsAndNumbersRequestsInOrder) {
  fake_daemon daemon(answer(json::object()));
  client c(daemon.connect_pair());
  ASSERT_TRUE(c.call("tree", json::object(), patience));
  ASSERT_TRUE(c.call("flush", json::object(), patience));
  auto requests = daemon.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_FALSE(requests[0].contains("args"));
  EXPECT_EQ(requests[0]["id"], 1);
  EXPECT_EQ(requests[1]["id"], 2);
}

TEST(CtlClient, DaemonErrorsCarryTheirCodeAndExitOne) {
  fake_daemon daemon([](const json& req) {
    return response{{error_reply(req, "not_found", "no worker named 'ech'")}};
  });
  client c(daemon.connect_pair());
  auto reply = c.call("info", {{"target", "ech"}}, patience);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().exit, exit_code::daemon_error);
  EXPECT_EQ(reply.error().code, "not_found");
  EXPECT_EQ(reply.error().message, "no worker named 'ech'");
}

TEST(CtlClient, BadRequestWithNullIdAnswersThePendingRequest) {
  fake_daemon daemon(
      [](const json&) { return response{{error_reply(nullptr, "bad_request", "no cmd")}}; });
  client c(daemon.connect_pair());
  auto reply = c.call("x", json::object(), patience);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().exit, exit_code::daemon_error);
  EXPECT_EQ(reply.error().code, "bad_request");
}

TEST(CtlClient, UnauthorizedPeersCannotConnect) {
  fake_daemon daemon(
      [](const json&) {
        return response{{}, true};
      },
      {error_reply(nullptr, "unauthorized", "uid 1001 is not allowed")});
  auto c = client::connect(daemon.path());
  ASSERT_TRUE(c) << c.error().message;
  auto reply = c->call("status", json::object(), patience);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().exit, exit_code::cannot_connect);
  EXPECT_NE(reply.error().message.find("uid 1001 is not allowed"), std::string::npos);
}

TEST(CtlClient, ConnectFailureNamesTheSocket) {
  auto c = client::connect("/nonexistent-vigil-dir/control.sock");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().exit, exit_code::cannot_connect);
  EXPECT_NE(c.error().message.find("/nonexistent-vigil-dir/control.sock"), std::string::npos);
  EXPECT_NE(c.error().message.find("No such file"), std::string::npos);
}

TEST(CtlClient, ConnectsByPath) {
  fake_daemon daemon(answer({{"self", "#PID<0.42.0>"}}));
  auto c = client::connect(daemon.path());
  ASSERT_TRUE(c) << c.error().message;
  auto reply = c->call("hello", json::object(), patience);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ((*reply)["self"], "#PID<0.42.0>");
  EXPECT_EQ(daemon.connections(), 1);
}

TEST(CtlClient, RepliesThatBreakTheProtocolExitFour) {
  std::vector<std::string> bad_lines = {
      "this is not json",
      "[1, 2]",
      R"({"v":2,"id":1,"ok":true,"result":{}})",
      R"({"v":1,"id":99,"ok":true,"result":{}})",
      R"({"v":1,"id":1,"result":{}})",
      R"({"v":1,"id":1,"ok":true})",
      R"({"v":1,"id":1,"ok":true,"result":[]})",
      R"({"v":1,"id":null,"ok":true,"result":{}})",
      R"({"v":1,"id":1,"ok":false})",
  };
  for (const std::string& line : bad_lines) {
    fake_daemon daemon([line](const json&) { return response{{line}}; });
    client c(daemon.connect_pair());
    auto reply = c.call("status", json::object(), patience);
    ASSERT_FALSE(reply) << line;
    EXPECT_EQ(reply.error().exit, exit_code::protocol_error) << line;
  }
}

TEST(CtlClient, AMissingVersionMeansOne) {
  fake_daemon daemon([](const json& req) {
    return response{{dump_json(json{{"id", req["id"]}, {"ok", true}, {"result", json::object()}})}};
  });
  client c(daemon.connect_pair());
  EXPECT_TRUE(c.call("tree", json::object(), patience));
}

TEST(CtlClient, ReadsRepliesSplitAcrossWritesAndSkipsBlankLines) {
  fake_daemon daemon([](const json& req) {
    return response{{}, false, "\n\r\n" + ok_reply(req, {{"n", 1}}) + "\n", true};
  });
  client c(daemon.connect_pair());
  auto reply = c.call("x", json::object(), patience);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ((*reply)["n"], 1);
}

TEST(CtlClient, AHalfLineIsAProtocolError) {
  fake_daemon daemon([](const json& req) {
    return response{{ok_reply(req, {{"n", 1}}).substr(0, 12)}};
  });
  client c(daemon.connect_pair());
  auto reply = c.call("x", json::object(), patience);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().exit, exit_code::protocol_error);
}

TEST(CtlClient, KeepsEventsThatArriveBeforeTheReply) {
  std::string event = R"({"v":1,"event":"process_started","ts":1,"path":"root/echo"})";
  fake_daemon daemon([event](const json& req) {
    return response{{event, ok_reply(req, {{"events", json::array()}}), event}};
  });
  client c(daemon.connect_pair());
  ASSERT_TRUE(c.call("events", {{"follow", true}}, patience));
  for (int i = 0; i < 2; ++i) {
    auto e = c.next_event(patience);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ((*e)["event"], "process_started");
  }
  auto none = c.next_event(50ms);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->is_null());
}

TEST(CtlClient, ALineThatIsNoEventWhileFollowingIsAProtocolError) {
  fake_daemon daemon([](const json& req) {
    return response{{ok_reply(req, json::object()), R"({"v":1,"id":5,"ok":true,"result":{}})"}};
  });
  client c(daemon.connect_pair());
  ASSERT_TRUE(c.call("events", {{"follow", true}}, patience));
  auto e = c.next_event(patience);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().exit, exit_code::protocol_error);
}

TEST(CtlClient, AClosedConnectionMeansTheDaemonIsGone) {
  fake_daemon daemon([](const json&) { return response{{}, true}; });
  client c(daemon.connect_pair());
  auto reply = c.call("status", json::object(), patience);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().exit, exit_code::cannot_connect);
  EXPECT_NE(reply.error().message.find("closed"), std::string::npos);
}

TEST(CtlClient, ASilentDaemonTimesOut) {
  fake_daemon daemon([](const json&) { return response{}; });
  client c(daemon.connect_pair());
  auto reply = c.call("status", json::object(), 100ms);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().exit, exit_code::cannot_connect);
  EXPECT_NE(reply.error().message.find("no reply"), std::string::npos);
}

TEST(CtlClient, RefusesToSendARequestOverTheLimit) {
  fake_daemon daemon(answer(json::object()));
  client c(daemon.connect_pair());
  auto reply = c.call("send", {{"target", "echo"}, {"term", std::string(70'000, 'a')}}, patience);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().exit, exit_code::usage);
  EXPECT_TRUE(daemon.requests().empty());
  // A request of exactly the limit, newline included, goes out.
  std::string fits(client::max_request_bytes, 'a');
  json args = {{"t", ""}};
  std::size_t overhead =
      dump_json(json{{"v", 1}, {"id", 2}, {"cmd", "x"}, {"args", args}}).size() + 1;
  args["t"] = fits.substr(0, client::max_request_bytes - overhead);
  EXPECT_TRUE(c.call("x", args, patience));
}

} // namespace
