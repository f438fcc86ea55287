// SPDX-License-Identifier: Apache-2.0
// Specs and protocol messages as terms: round trips and malformed input.
#include "vigil/supervision/protocol.hpp"

#include "vigil/supervision/spec_term.hpp"
#include "vigil/term/text.hpp"

#include "core_fixture.hpp"

namespace vigil::supervision::test {
namespace {

child_spec full_child() {
  child_spec c = worker("web", restart_type::transient);
  c.shutdown = shutdown_policy::brutal_kill();
  c.significant = true;
  c.backoff = backoff_policy{100ms, 5s, 1.5, 0.2, 30s};
  c.kind = "echo";
  c.args = term::map({{atom("name"), atom("web")}, {atom("delay"), 5}});
  c.mode = "process";
  c.os.command = {"/bin/sleep", "10"};
  c.os.env = {{"A", "1"}, {"B", "2"}};
  c.os.cwd = "/tmp";
  c.os.umask = 022;
  c.os.user = "nobody";
  c.os.stop_signal = "SIGINT";
  c.os.may_send = {"echo", "jobs"};
  c.where = source_location{"vigil.toml", 7, 3};
  return c;
}

TEST(SpecTerm, AChildSpecSurvivesARoundTrip) {
  auto c = full_child();
  auto back = child_spec_from_term(to_term(c));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, c);
  EXPECT_EQ(back->where, c.where);
}

// A child that a reload adds or replaces travels as a term: its limits and group went
// missing on the way until the codec was walked from the field table.
TEST(SpecTerm, ResourceLimitsAndGroupSurviveARoundTrip) {
  auto c = full_child();
  c.os.group = "daemon";
  c.os.rlimits = {{"nofile", {1024, 4096}},
                  {"core", {0, 0}},
                  {"cpu", {resource_limit::unlimited, resource_limit::unlimited}}};
  auto back = child_spec_from_term(to_term(c));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->os.rlimits, c.os.rlimits);
  EXPECT_EQ(back->os.group, "daemon");
  EXPECT_EQ(*back, c);
}

TEST(SpecTerm, ANestedSupervisorSpecSurvivesARoundTrip) {
  auto inner = make_spec(strategy::rest_for_one, {full_child(), worker("b")}, 7, 90s);
  inner.auto_shutdown = auto_shutdown::all_significant;
  auto outer = worker("inner");
  outer.type = child_type::supervisor;
  outer.shutdown = shutdown_policy::infinity();
  outer.supervisor = std::make_shared<const supervisor_spec>(inner);
  auto root = make_spec(strategy::simple_one_for_one, {outer});
  root.max_children = 12;
  auto back = supervisor_spec_from_term(to_term(root));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, root);
}

TEST(SpecTerm, ABadFieldIsNamed) {
  auto t = to_term(worker("a"));
  std::vector<std::pair<term, term>> entries;
  for (std::size_t i = 0; i < t.size(); ++i) {
    bool is_restart = t.map_key(i) == term(atom("restart"));
    entries.emplace_back(t.map_key(i), is_restart ? term(atom("sometimes")) : t.map_value(i));
  }
  auto back = child_spec_from_term(term::map(entries));
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().context.find(":restart"), std::string::npos) << back.error().context;
  EXPECT_FALSE(child_spec_from_term(term(42)));
}

TEST(SpecTerm, DeepNestingIsRejected) {
  supervisor_spec spec = make_spec(strategy::one_for_one, {});
  for (int i = 0; i < 40; ++i) {
    auto c = worker("s");
    c.type = child_type::supervisor;
    c.supervisor = std::make_shared<const supervisor_spec>(spec);
    spec = make_spec(strategy::one_for_one, {c});
  }
  EXPECT_FALSE(supervisor_spec_from_term(to_term(spec)));
}

TEST(SpecTerm, RegisteredNameComesFromTheArgs) {
  auto c = worker("a");
  EXPECT_FALSE(registered_name(c));
  c.args = term::map({{atom("name"), atom("web")}});
  EXPECT_EQ(registered_name(c), atom("web"));
  c.args = term::map({{term("name"), term("api")}});
  EXPECT_EQ(registered_name(c), atom("api"));
  c.args = term::map({{atom("name"), 5}});
  EXPECT_FALSE(registered_name(c));
}

TEST(Protocol, ChildRowsPrintAsOtpDoes) {
  std::vector<child_info> rows{{"a", pid{0, 80, 1}, child_type::worker, child_state::running},
                               {"b", std::nullopt, child_type::supervisor, child_state::restarting},
                               {"c", std::nullopt, child_type::worker, child_state::backoff, 250ms},
                               {"d", std::nullopt, child_type::worker, child_state::stopped}};
  term t = protocol::to_term(rows);
  EXPECT_EQ(to_string(t), "[{\"a\", #PID<0.80.1>, :worker, :running}, "
                          "{\"b\", :restarting, :supervisor, :restarting}, "
                          "{\"c\", {:backoff, 250}, :worker, :backoff}, "
                          "{\"d\", :undefined, :worker, :stopped}]");
  auto back = protocol::children_from_term(t);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, rows);
}

TEST(Protocol, CountsAreAKeywordList) {
  child_counts n{4, 3, 1, 3};
  term t = protocol::to_term(n);
  EXPECT_EQ(to_string(t), "[{:specs, 4}, {:active, 3}, {:supervisors, 1}, {:workers, 3}]");
  EXPECT_EQ(protocol::counts_from_term(t).value(), n);
}

TEST(Protocol, RequestsSurviveARoundTrip) {
  std::vector<request> reqs(7);
  reqs[1].what = request::kind::count_children;
  reqs[2].what = request::kind::start_child;
  reqs[2].spec = full_child();
  reqs[3].what = request::kind::start_child;
  reqs[3].args = term::map({{atom("port"), 1}});
  reqs[4].what = request::kind::terminate_child;
  reqs[4].child = pid{0, 5, 2};
  reqs[5].what = request::kind::restart_child;
  reqs[5].id = "web";
  reqs[6].what = request::kind::delete_child;
  reqs[6].id = "web";
  for (const auto& r : reqs) {
    auto back = protocol::decode(protocol::encode(r));
    ASSERT_TRUE(back) << to_string(protocol::encode(r));
    EXPECT_EQ(back->what, r.what);
    EXPECT_EQ(back->id, r.id);
    EXPECT_EQ(back->child, r.child);
    EXPECT_EQ(back->spec, r.spec);
    EXPECT_EQ(back->args, r.args);
  }
}

TEST(Protocol, MalformedRequestsAreErrors) {
  for (const char* text : {":nonsense", "{:which_children, 1}", ":restart_child",
                           "{:restart_child, :web}", "{:start_child, 1}", "42"}) {
    auto t = parse_term(text);
    ASSERT_TRUE(t) << text;
    EXPECT_FALSE(protocol::decode(*t)) << text;
  }
}

TEST(Protocol, ReplyErrorsMapToErrorCodes) {
  EXPECT_EQ(protocol::reply_error(atom("not_found"), "x").code, make_error_code(errc::not_found));
  EXPECT_EQ(protocol::reply_error(atom("running"), "x").code,
            make_error_code(errc::already_exists));
  EXPECT_EQ(protocol::reply_error(atom("max_children"), "x").code,
            make_error_code(errc::limit_exceeded));
  EXPECT_EQ(protocol::reply_error(term("no b"), "start_child").context, "start_child: no b");
}

TEST(Protocol, ErrorsSurviveARoundTrip) {
  error e{make_error_code(errc::config_invalid), "bad"};
  error back = protocol::decode_error(protocol::encode_error(e));
  EXPECT_EQ(back.code, e.code);
  EXPECT_EQ(back.context, e.context);
  error sys{std::error_code(2, std::system_category()), "open"};
  EXPECT_EQ(protocol::decode_error(protocol::encode_error(sys)).code, sys.code);
}

} // namespace
} // namespace vigil::supervision::test
