// SPDX-License-Identifier: Apache-2.0
// The arguments a kind declares (arg_schema), checked as vigild --check-config checks them,
// and duration arguments written as the rest of the config writes durations.
#include "vigil/workers/builtin_kinds.hpp"
#include "vigil/workers/plugin.hpp"

#include <gtest/gtest.h>

namespace vigil::workers {
namespace {

using namespace std::chrono_literals;

term args(std::initializer_list<std::pair<const char*, term>> entries) {
  std::vector<std::pair<term, term>> out;
  for (const auto& [k, v] : entries) {
    out.emplace_back(atom(k), v);
  }
  return term::map(out);
}

const arg_schema schema{{"delay", arg_type::duration, "", false},
                        {"count", arg_type::integer, "", false},
                        {"label", arg_type::string, "", true}};

TEST(KindSchema, AcceptsWhatItDeclares) {
  EXPECT_TRUE(check_args(schema, args({{"delay", "1m30s"}, {"count", 3}, {"label", "x"}})).empty());
  EXPECT_TRUE(check_args(schema, args({{"delay", 2000}, {"label", "x"}})).empty());
  EXPECT_TRUE(check_args(schema, args({{"label", "x"}, {"name", "my_child"}})).empty())
      << "every kind takes `name`, the name the child is registered under";
}

TEST(KindSchema, NamesEachProblemAndItsArgument) {
  auto problems =
      check_args(schema, args({{"delay", "soon"}, {"count", "3"}, {"dealy", 1}, {"name", 4}}));
  ASSERT_EQ(problems.size(), 5U);
  // In key order (the map's), then the missing required ones.
  EXPECT_EQ(problems[0], (arg_problem{"count", "expected an integer, got \"3\""}));
  EXPECT_EQ(problems[1], (arg_problem{"dealy", "unknown argument (it takes delay, count, label, "
                                               "and name)"}));
  EXPECT_EQ(problems[2], (arg_problem{"delay", "expected a duration such as \"2s\", \"1m30s\" or "
                                               "\"250ms\" (or an integer of milliseconds), got "
                                               "\"soon\""}));
  EXPECT_EQ(
      problems[3],
      (arg_problem{"name", "expected a string (the name to register the child under), got 4"}));
  EXPECT_EQ(problems[4],
            (arg_problem{"label", "missing the required argument 'label' (a string)"}));
}

TEST(KindSchema, ANegativeDurationIsRefused) {
  auto problems = check_args(schema, args({{"delay", -5}, {"label", "x"}}));
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].arg, "delay");
  EXPECT_EQ(problems[0].message, "expected a duration, got a negative number of milliseconds");
}

TEST(KindSchema, DurationArgReadsUnitsAndMilliseconds) {
  EXPECT_EQ(duration_arg(args({{"delay", "2s"}}), "delay", 0ms).value(), 2000ms);
  EXPECT_EQ(duration_arg(args({{"delay", "1m30s"}}), "delay", 0ms).value(), 90s);
  EXPECT_EQ(duration_arg(args({{"delay", 250}}), "delay", 0ms).value(), 250ms);
  EXPECT_EQ(duration_arg(args({}), "delay", 7ms).value(), 7ms);
  auto bad = duration_arg(args({{"delay", "soon"}}), "delay", 0ms);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().context,
            "argument 'delay' must be a duration such as \"2s\" (or an integer of milliseconds)");
  auto negative = duration_arg(args({{"delay", -1}}), "delay", 0ms);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().context, "argument 'delay' must not be negative");
}

TEST(KindSchema, TheBuiltinKindsDeclareTheirDurations) {
  auto kinds = kind_registry::with_builtins();
  for (const char* name : {"echo", "dispatcher", "crasher"}) {
    const arg_schema* s = kinds.schema(name);
    ASSERT_NE(s, nullptr) << name;
    ASSERT_EQ(s->size(), 1U) << name;
    EXPECT_EQ(s->front().type, arg_type::duration) << name;
  }
  EXPECT_EQ(kinds.schema("echo")->front().name, "delay");
  EXPECT_EQ(kinds.schema("crasher")->front().name, "crash_after");
  EXPECT_EQ(kinds.schema("nope"), nullptr);
}

TEST(KindSchema, AKindAddedWithoutASchemaTakesAnyArguments) {
  kind_registry kinds;
  kind k;
  k.name = "old";
  k.start = [](context&, const term&) -> result<pid> { return pid{}; };
  ASSERT_TRUE(kinds.add(std::move(k)));
  EXPECT_NE(kinds.find("old"), nullptr);
  EXPECT_EQ(kinds.schema("old"), nullptr);
}

TEST(KindSchema, ATakenNameKeepsTheFirstSchema) {
  auto kinds = kind_registry::with_builtins();
  kind k;
  k.name = "echo";
  k.start = [](context&, const term&) -> result<pid> { return pid{}; };
  EXPECT_FALSE(kinds.add(std::move(k), arg_schema{}));
  ASSERT_NE(kinds.schema("echo"), nullptr);
  EXPECT_EQ(kinds.schema("echo")->size(), 1U);
}

TEST(KindSchema, APluginDeclaresItsArguments) {
  auto kinds = kind_registry::with_builtins();
  auto loaded = load_plugin(VIGIL_GREETER_PLUGIN, kinds);
  ASSERT_TRUE(loaded) << loaded.error().message();
  const arg_schema* s = kinds.schema("greeter");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(check_args(*s, args({{"greeting", "Dear"}})).empty());
  auto problems = check_args(*s, args({{"greeting", 1}}));
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], (arg_problem{"greeting", "expected a string, got 1"}));
}

} // namespace
} // namespace vigil::workers
