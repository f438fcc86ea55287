// SPDX-License-Identifier: Apache-2.0
#include "vigil/workers/builtin_kinds.hpp"

#include "vigil/workers/child_factory.hpp"
#include "vigil/workers/plugin.hpp"

#include "../runtime/runtime_fixture.hpp"
#include "eventually.hpp"

#include <chrono>
#include <thread>

namespace vigil::test {
namespace {

using Kinds = runtime_test;

pid start_kind(runtime_test& t, const workers::kind_registry& kinds, const char* name, term args) {
  const workers::kind* k = kinds.find(name);
  EXPECT_NE(k, nullptr) << name;
  auto started = k->start(t.box->ctx(), args);
  EXPECT_TRUE(started.has_value());
  return started ? *started : pid{};
}

TEST_F(Kinds, EchoAnswersOkPong) {
  auto kinds = workers::kind_registry::with_builtins();
  pid echo = start_kind(*this, kinds, "echo", term::map({}));
  rt.send(echo, make_tuple(me(), atoms::ok));
  EXPECT_EQ(next(), make_tuple(atoms::ok, atoms::pong));
  box->ctx().unlink(echo);
  rt.exit(echo, atoms::kill);
}

TEST_F(Kinds, DispatcherServesRequestsInParallel) {
  auto kinds = workers::kind_registry::with_builtins();
  // Each answer takes an hour: four requests in flight at once prove four workers at once.
  pid server = start_kind(*this, kinds, "dispatcher", term::map({{atom("delay"), 3'600'000}}));
  auto before = rt.process_count();
  for (int i = 0; i < 4; ++i) {
    rt.send(server, make_tuple(me(), atoms::ping));
  }
  (void)eventually([&] { return rt.process_count() >= before + 4; });
  EXPECT_EQ(rt.process_count(), before + 4) << "a worker per request, all running at once";
  EXPECT_TRUE(quiet()) << "no answer before its delay";
  box->ctx().unlink(server);
  rt.exit(server, atoms::kill);
}

TEST_F(Kinds, CrasherExitsWhenToldAndItsLinkSeesWhy) {
  auto kinds = workers::kind_registry::with_builtins();
  box->ctx().trap_exit(true);
  pid c = start_kind(*this, kinds, "crasher", term::map({}));
  rt.send(c, atom("crash"));
  EXPECT_EQ(next(), make_tuple(atoms::exit, c, atom("crashed")));
}

TEST_F(Kinds, ABadArgumentIsAnErrorNamingIt) {
  auto kinds = workers::kind_registry::with_builtins();
  auto r = kinds.find("echo")->start(box->ctx(), term::map({{atom("delay"), "soon"}}));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().context.find("delay"), std::string::npos);
}

TEST_F(Kinds, FactoryRejectsAnUnknownKindListingTheKnownOnes) {
  auto kinds = workers::kind_registry::with_builtins();
  auto factory = workers::make_child_factory(kinds);
  supervision::child_spec spec;
  spec.id = "x";
  spec.kind = "ecko";
  auto r = factory(box->ctx(), spec);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().context,
            "unknown worker kind 'ecko' (known: crasher, dispatcher, echo, ready_when_told)");
}

TEST_F(Kinds, FactoryRegistersTheChildUnderItsName) {
  auto kinds = workers::kind_registry::with_builtins();
  auto factory = workers::make_child_factory(kinds);
  supervision::child_spec spec;
  spec.id = "named";
  spec.kind = "echo";
  spec.args = term::map({{atom("name"), atom("my_echo")}});
  auto r = factory(box->ctx(), spec);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(rt.whereis(atom("my_echo")), *r);
  box->ctx().unlink(*r);
  rt.exit(*r, atoms::kill);
}

TEST_F(Kinds, PluginRegistersItsKindAndItRuns) {
  auto kinds = workers::kind_registry::with_builtins();
  auto loaded = workers::load_plugin(VIGIL_GREETER_PLUGIN, kinds);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  pid g = start_kind(*this, kinds, "greeter", term::map({{atom("greeting"), "Dear"}}));
  rt.send(g, make_tuple(me(), "Ann"));
  EXPECT_EQ(next(), make_tuple(atom("hello"), "Dear Ann"));
  box->ctx().unlink(g);
  rt.exit(g, atoms::kill);
}

TEST(Plugin, AMissingFileIsAClearError) {
  workers::kind_registry kinds;
  auto r = workers::load_plugin("/nonexistent/libnothing.so", kinds);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().context, "plugin /nonexistent/libnothing.so: No such file or directory");
}

TEST(Plugin, AMissingEntryPointIsAClearError) {
  workers::kind_registry kinds;
  auto r = workers::load_plugin(VIGIL_NO_ENTRY_PLUGIN, kinds);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().context.find("missing the entry point vigil_plugin_init()"),
            std::string::npos)
      << r.error().context;
}

} // namespace
} // namespace vigil::test
