// SPDX-License-Identifier: Apache-2.0
#include "vigil/protocol/request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using vigil::protocol::command;
using vigil::protocol::error_code;
using vigil::protocol::parse_request;
using vigil::protocol::reply_error;
using vigil::protocol::reply_ok;

error_code code_of(std::string_view line) {
  auto r = parse_request(line);
  EXPECT_FALSE(r) << line;
  return r ? error_code::failed : r.error().code;
}

TEST(ParseRequest, ReadsTheProtocolExample) {
  auto r = parse_request(R"({"v": 1, "id": 7, "cmd": "status", "args": {"names": ["echo"]}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "7");
  EXPECT_EQ(r->cmd, command::status);
  EXPECT_EQ(r->names, std::vector<std::string>{"echo"});
}

TEST(ParseRequest, TakesAMissingVersionAsOneAndAStringId) {
  auto r = parse_request(R"({"id": "a\"b", "cmd": "hello"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, R"("a\"b")");
  EXPECT_EQ(r->cmd, command::hello);
}

TEST(ParseRequest, WithoutIdRepliesToNull) {
  auto r = parse_request(R"({"cmd": "tree"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "null");
}

TEST(ParseRequest, ReadsEveryArgumentType) {
  auto send = parse_request(
      R"({"cmd":"send","args":{"target":"echo","term":"{self(), :ok}","await_ms":1000}})");
  ASSERT_TRUE(send);
  EXPECT_EQ(send->target, "echo");
  EXPECT_EQ(send->term, "{self(), :ok}");
  EXPECT_EQ(send->await_ms, 1000);
  auto logs = parse_request(R"({"cmd":"logs","args":{"name":"web","lines":5,"follow":true}})");
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->target, "web");
  EXPECT_EQ(logs->count, 5);
  EXPECT_TRUE(logs->follow);
  auto reload = parse_request(R"({"cmd":"reload","args":{"dry_run":true}})");
  ASSERT_TRUE(reload);
  EXPECT_TRUE(reload->dry_run);
}

TEST(ParseRequest, NullArgsAndNullArgumentsCountAsAbsent) {
  EXPECT_TRUE(parse_request(R"({"cmd":"flush","args":null})"));
  auto r = parse_request(R"({"cmd":"receive","args":{"timeout_ms":null}})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->timeout_ms);
}

TEST(ParseRequest, RejectsWhatIsNotAJsonObject) {
  EXPECT_EQ(code_of("garbage"), error_code::bad_request);
  EXPECT_EQ(code_of("[1, 2]"), error_code::bad_request);
  EXPECT_EQ(code_of(""), error_code::bad_request);
  EXPECT_EQ(code_of(R"({"cmd": "status")"), error_code::bad_request);
}

TEST(ParseRequest, RejectsFieldsOfTheWrongType) {
  EXPECT_EQ(code_of(R"({"id": 7})"), error_code::bad_request);
  EXPECT_EQ(code_of(R"({"cmd": 7})"), error_code::bad_request);
  EXPECT_EQ(code_of(R"({"cmd": "status", "v": "1"})"), error_code::bad_request);
  EXPECT_EQ(code_of(R"({"cmd": "status", "id": [1]})"), error_code::bad_request);
  EXPECT_EQ(code_of(R"({"cmd": "status", "args": []})"), error_code::bad_request);
}

TEST(ParseRequest, KeepsTheIdOfARequestItRejects) {
  auto r = parse_request(R"({"v": 2, "id": 9, "cmd": "status"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, error_code::unsupported_version);
  EXPECT_EQ(r.error().id, "9");
  auto unknown = parse_request(R"({"id": "x", "cmd": "launch"})");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, error_code::unknown_command);
  EXPECT_EQ(unknown.error().id, R"("x")");
}

TEST(ParseRequest, RejectsUnknownMissingAndMistypedArguments) {
  EXPECT_EQ(code_of(R"({"cmd":"status","args":{"name":"x"}})"), error_code::invalid_argument);
  EXPECT_EQ(code_of(R"({"cmd":"info","args":{}})"), error_code::invalid_argument);
  EXPECT_EQ(code_of(R"({"cmd":"info","args":{"target":1}})"), error_code::invalid_argument);
  EXPECT_EQ(code_of(R"({"cmd":"status","args":{"names":["a",1]}})"), error_code::invalid_argument);
  EXPECT_EQ(code_of(R"({"cmd":"receive","args":{"timeout_ms":-1}})"), error_code::invalid_argument);
  EXPECT_EQ(code_of(R"({"cmd":"events","args":{"follow":"yes"}})"), error_code::invalid_argument);
  EXPECT_EQ(code_of(R"({"cmd":"hello","args":{"x":1}})"), error_code::invalid_argument);
}

TEST(ParseRequest, RejectsDeepNestingBeforeParsing) {
  std::string deep = R"({"cmd":"hello","x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(code_of(deep), error_code::bad_request);
  std::string brackets_in_a_string = R"({"cmd":"hello","id":")" + std::string(100, '[') + "\"}";
  EXPECT_TRUE(parse_request(brackets_in_a_string));
}

TEST(ParseRequest, KnowsEveryCommandByName) {
  for (auto name :
       {"hello", "status", "tree", "info", "alive", "start", "stop", "restart", "kill", "send",
        "flush", "receive", "spawn", "logs", "reload", "events", "registered", "shutdown"}) {
    auto c = vigil::protocol::command_from_name(name);
    ASSERT_TRUE(c) << name;
    EXPECT_EQ(vigil::protocol::command_name(*c), name);
  }
}

TEST(Replies, FollowTheProtocolShape) {
  EXPECT_EQ(reply_ok("7", R"({"alive":true})"),
            "{\"v\":1,\"id\":7,\"ok\":true,\"result\":{\"alive\":true}}\n");
  EXPECT_EQ(reply_error("null", error_code::not_found, "no worker named 'ech'"),
            "{\"v\":1,\"id\":null,\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":"
            "\"no worker named 'ech'\"}}\n");
}

TEST(Replies, EscapeMessagesAndSurviveInvalidUtf8) {
  std::string line = reply_error("1", error_code::failed, "bad \"\xff\" byte\n");
  EXPECT_NE(line.find(R"(bad \")"), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

} // namespace

TEST(ParseRequest, RefusesDuplicateKeysAtAnyDepth) {
  // nlohmann keeps the last of two equal keys: this once ran as `shutdown`.
  auto r = parse_request(R"({"id":3,"cmd":"status","cmd":"shutdown"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, error_code::bad_request);
  EXPECT_NE(r.error().message.find("duplicate key \"cmd\""), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().id, "3"); // the id is not in doubt
  auto two_ids = parse_request(R"({"id":1,"cmd":"hello","id":2})");
  ASSERT_FALSE(two_ids);
  EXPECT_EQ(two_ids.error().id, "null");
  auto nested_id = parse_request(R"({"id":4,"cmd":"hello","x":{"id":1,"id":2}})");
  ASSERT_FALSE(nested_id);
  EXPECT_EQ(nested_id.error().id, "4");
  EXPECT_EQ(code_of(R"({"cmd":"logs","args":{"name":"a","name":"b"}})"), error_code::bad_request);
  EXPECT_EQ(code_of(R"({"cmd":"hello","x":[{"k":1,"k":2}]})"), error_code::bad_request);
  // Keys compare as the strings they decode to.
  EXPECT_EQ(code_of(R"({"cmd":"status","\u0063md":"shutdown"})"), error_code::bad_request);
  EXPECT_EQ(code_of(R"({"id":1,"id":2,"cmd":"hello"})"), error_code::bad_request);
}

TEST(ParseRequest, TakesEqualKeysInDifferentObjects) {
  auto r = parse_request(R"({"cmd":"hello","a":{"cmd":1},"b":[{"cmd":2},{"cmd":3}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cmd, command::hello);
}
