// SPDX-License-Identifier: Apache-2.0
// The command table is what vigild validates requests against and what vigilctl lists: each
// argument it declares is accepted with a value of its type, refused with any other, and
// required where it says so.
#include "vigil/protocol/command_table.hpp"

#include "vigil/protocol/request.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using vigil::protocol::arg_type;
using vigil::protocol::argument;
using vigil::protocol::command_info;
using vigil::protocol::command_table;
using vigil::protocol::error_code;
using vigil::protocol::parse_request;
using vigil::protocol::request;

/// A JSON value of type `t` that differs from the default of every request field.
std::string value_of(arg_type t) {
  switch (t) {
  case arg_type::string: return R"(":x")";
  case arg_type::string_list: return R"(["echo"])";
  case arg_type::count: return "7";
  case arg_type::boolean: return "true";
  }
  return "null";
}

/// A JSON value that is not of type `t`.
std::string wrong_value_of(arg_type t) {
  return t == arg_type::string ? "7" : R"("7")";
}

/// `{"cmd": <c>, "args": {...}}` with the required arguments, `extra` and not `left_out`.
std::string line_for(const command_info& c, const argument* extra = nullptr,
                     std::string_view left_out = {}, std::string extra_value = {}) {
  std::string args;
  for (const argument& a : c.args()) {
    bool is_extra = extra != nullptr && a.key == extra->key;
    if ((!a.required && !is_extra) || a.key == left_out) {
      continue;
    }
    std::string value = is_extra && !extra_value.empty() ? extra_value : value_of(a.type);
    args += (args.empty() ? "\"" : ",\"") + std::string(a.key) + "\":" + value;
  }
  return R"({"cmd":")" + std::string(c.name) + R"(","args":{)" + args + "}}";
}

bool same_request(const request& a, const request& b) {
  return a.cmd == b.cmd && a.names == b.names && a.target == b.target && a.term == b.term
         && a.await_ms == b.await_ms && a.timeout_ms == b.timeout_ms && a.count == b.count
         && a.follow == b.follow && a.dry_run == b.dry_run && a.detach == b.detach;
}

TEST(CommandTable, ListsEachCommandOnceFoundByItsName) {
  std::set<std::string_view> names;
  for (const command_info& c : command_table()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_FALSE(c.summary.empty()) << c.name;
    ASSERT_NE(vigil::protocol::find_command(c.name), nullptr);
    EXPECT_EQ(vigil::protocol::find_command(c.name)->cmd, c.cmd);
    EXPECT_EQ(&vigil::protocol::info_of(c.cmd), &c);
  }
  EXPECT_EQ(vigil::protocol::find_command("statuss"), nullptr);
}

TEST(CommandTable, TheDaemonTakesEveryArgumentItDeclares) {
  for (const command_info& c : command_table()) {
    auto bare = parse_request(line_for(c));
    ASSERT_TRUE(bare) << line_for(c) << ": " << bare.error().message;
    EXPECT_EQ(bare->cmd, c.cmd);
    for (const argument& a : c.args()) {
      if (a.required) {
        continue;
      }
      // An optional argument, given, lands somewhere in the request.
      auto with = parse_request(line_for(c, &a));
      ASSERT_TRUE(with) << line_for(c, &a) << ": " << with.error().message;
      EXPECT_FALSE(same_request(*bare, *with)) << c.name << " dropped '" << a.key << "'";
    }
  }
}

TEST(CommandTable, TheDaemonRefusesEachArgumentOfTheWrongType) {
  for (const command_info& c : command_table()) {
    for (const argument& a : c.args()) {
      auto r = parse_request(line_for(c, &a, {}, wrong_value_of(a.type)));
      ASSERT_FALSE(r) << c.name << " " << a.key;
      EXPECT_EQ(r.error().code, error_code::invalid_argument);
      EXPECT_EQ(r.error().message, "argument '" + std::string(a.key) + "' must be "
                                       + std::string(vigil::protocol::type_phrase(a.type)));
    }
  }
}

TEST(CommandTable, TheDaemonNeedsEveryRequiredArgument) {
  for (const command_info& c : command_table()) {
    for (const argument& a : c.args()) {
      if (!a.required) {
        continue;
      }
      auto r = parse_request(line_for(c, nullptr, a.key));
      ASSERT_FALSE(r) << c.name << " without " << a.key;
      EXPECT_EQ(r.error().code, error_code::invalid_argument);
      EXPECT_EQ(r.error().message,
                "'" + std::string(c.name) + "' needs the argument '" + std::string(a.key) + "'");
    }
  }
}

TEST(CommandTable, TheDaemonRefusesArgumentsACommandDoesNotDeclare) {
  for (const command_info& c : command_table()) {
    std::string line = line_for(c);
    bool no_args = line.ends_with("{}}");
    line.insert(line.size() - 2, std::string(no_args ? "" : ",") + R"("bogus":1)");
    auto r = parse_request(line);
    ASSERT_FALSE(r) << line;
    EXPECT_EQ(r.error().message, "'" + std::string(c.name) + "' takes no argument 'bogus'");
  }
}

} // namespace
