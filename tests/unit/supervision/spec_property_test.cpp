// SPDX-License-Identifier: Apache-2.0
// Generated specs that set every field, through the term codec, equality and reload plans.
// The generator, the comparison and the mutations below spell every field out by hand, on
// purpose: they check the field tables (spec_fields.hpp) instead of trusting them, so a
// field the codec drops, equality ignores or the diff misses fails here. The generator is
// seeded: a failure names its iteration, and runs again the same.
#include "vigil/config/reload.hpp"
#include "vigil/supervision/spec_term.hpp"
#include "vigil/term/text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vigil::supervision {
namespace {

using namespace std::chrono_literals;

constexpr int iterations = 400;

/// splitmix64: the same sequence on every platform, unlike std's distributions.
class generator {
public:
  explicit generator(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }

  bool coin() { return below(2) == 1; }

  template <class E, std::size_t N>
  E one_of(const std::array<E, N>& values) {
    return values[below(N)];
  }

  std::string text(std::size_t max_len = 8) {
    static constexpr std::string_view chars = "abcXYZ019_-. /\"\\";
    std::string out;
    for (std::size_t n = below(static_cast<std::uint32_t>(max_len + 1)); n > 0; --n) {
      out += chars[below(static_cast<std::uint32_t>(chars.size()))];
    }
    return out;
  }

  std::vector<std::string> texts() {
    std::vector<std::string> out(below(4));
    for (auto& s : out) {
      s = text();
    }
    return out;
  }

  milliseconds duration() { return milliseconds{below(100'000)}; }

private:
  std::uint64_t state_;
};

backoff_policy random_backoff(generator& g) {
  // Multiples of 1/8 round-trip exactly through a float term.
  return backoff_policy{g.duration(),     g.duration(), 1.0 + g.below(16) / 8.0,
                        g.below(9) / 8.0, g.duration(), g.below(5)};
}

std::optional<backoff_policy> maybe_backoff(generator& g) {
  return g.coin() ? std::optional(random_backoff(g)) : std::nullopt;
}

source_location random_where(generator& g) {
  return source_location{g.text() + ".toml", g.below(1000), g.below(80)};
}

resource_limit random_limit(generator& g) {
  auto bound = [&] { return g.below(4) == 0 ? resource_limit::unlimited : g.next() >> 2; };
  return resource_limit{bound(), bound()};
}

os_process_spec random_os(generator& g) {
  os_process_spec os;
  os.command = g.texts();
  for (auto n = g.below(4); n > 0; --n) {
    os.env[g.text()] = g.text();
  }
  os.cwd = g.text();
  if (g.coin()) {
    os.umask = g.below(01000);
  }
  os.user = g.text();
  os.group = g.text();
  os.stop_signal = g.one_of(std::array<std::string, 3>{"SIGTERM", "SIGINT", "SIGUSR2"});
  for (auto n = g.below(4); n > 0; --n) {
    os.rlimits[g.one_of(std::array<std::string, 4>{"nofile", "core", "cpu", "as"})] =
        random_limit(g);
  }
  os.may_send = g.texts();
  if (g.coin()) {
    os.limits.memory = g.next() >> 2;
  }
  if (g.coin()) {
    os.limits.memory_high = g.next() >> 2;
  }
  if (g.coin()) {
    os.limits.cpus = 0.25 * static_cast<double>(1 + g.below(64));
  }
  if (g.coin()) {
    os.limits.pids = 1 + g.below(100000);
  }
  return os;
}

term random_args(generator& g) {
  std::vector<std::pair<term, term>> entries;
  for (auto n = g.below(4); n > 0; --n) {
    term value = g.coin() ? term(static_cast<std::int64_t>(g.next() >> 1)) : term(g.text());
    entries.emplace_back(atom("k" + std::to_string(g.below(10))), value);
  }
  return term::map(entries);
}

supervisor_spec random_supervisor(generator& g, int depth);

child_spec random_child(generator& g, int depth, std::size_t index) {
  child_spec c;
  c.id = "c" + std::to_string(index) + g.text(3);
  c.type = depth < 3 && g.below(4) == 0 ? child_type::supervisor : child_type::worker;
  c.restart = g.one_of(
      std::array{restart_type::permanent, restart_type::transient, restart_type::temporary});
  switch (g.below(3)) {
  case 0: c.shutdown = shutdown_policy::brutal_kill(); break;
  case 1: c.shutdown = shutdown_policy::infinity(); break;
  default: c.shutdown = shutdown_policy::after(g.duration());
  }
  c.significant = g.coin();
  c.backoff = maybe_backoff(g);
  c.kind = g.text();
  c.args = random_args(g);
  c.mode = g.one_of(std::array<std::string, 3>{"inprocess", "process", "command"});
  c.os = random_os(g);
  if (c.type == child_type::supervisor) {
    c.supervisor = std::make_shared<const supervisor_spec>(random_supervisor(g, depth + 1));
  }
  c.where = random_where(g);
  return c;
}

supervisor_spec random_supervisor(generator& g, int depth) {
  supervisor_spec s;
  s.name = g.text();
  s.how = g.one_of(std::array{strategy::one_for_one, strategy::one_for_all, strategy::rest_for_one,
                              strategy::simple_one_for_one});
  s.intensity = g.below(1000);
  s.period = g.duration();
  s.auto_shutdown = g.one_of(std::array{auto_shutdown::never, auto_shutdown::any_significant,
                                        auto_shutdown::all_significant});
  s.max_children = g.below(100);
  s.on_max_restarts =
      g.one_of(std::array{max_restarts_action::escalate, max_restarts_action::hold});
  s.hold_retry = g.duration();
  s.hold_retry_max = g.duration();
  s.default_backoff = maybe_backoff(g);
  // simple_one_for_one holds one template; the others any number of children.
  std::size_t n = s.how == strategy::simple_one_for_one ? 1 : g.below(depth == 0 ? 6 : 3);
  for (std::size_t i = 0; i < n; ++i) {
    s.children.push_back(random_child(g, depth, i));
  }
  s.where = random_where(g);
  return s;
}

// -- an independent comparison: every field by hand, `where` included -----------------------

std::string difference(const supervisor_spec& a, const supervisor_spec& b);

std::string difference(const child_spec& a, const child_spec& b) {
  const std::string at = "child " + a.id + ": ";
  const std::pair<const char*, bool> fields[] = {
      {"id", a.id == b.id},
      {"type", a.type == b.type},
      {"restart", a.restart == b.restart},
      {"shutdown", a.shutdown.how == b.shutdown.how && a.shutdown.timeout == b.shutdown.timeout},
      {"significant", a.significant == b.significant},
      {"backoff", a.backoff == b.backoff},
      {"kind", a.kind == b.kind},
      {"args", a.args == b.args},
      {"mode", a.mode == b.mode},
      {"os.command", a.os.command == b.os.command},
      {"os.env", a.os.env == b.os.env},
      {"os.cwd", a.os.cwd == b.os.cwd},
      {"os.umask", a.os.umask == b.os.umask},
      {"os.user", a.os.user == b.os.user},
      {"os.group", a.os.group == b.os.group},
      {"os.stop_signal", a.os.stop_signal == b.os.stop_signal},
      {"os.rlimits", a.os.rlimits == b.os.rlimits},
      {"os.may_send", a.os.may_send == b.os.may_send},
      {"os.limits", a.os.limits == b.os.limits},
      {"supervisor", (a.supervisor == nullptr) == (b.supervisor == nullptr)},
      {"where", a.where == b.where},
  };
  for (const auto& [name, same] : fields) {
    if (!same) {
      return at + name + " differs";
    }
  }
  return a.supervisor ? difference(*a.supervisor, *b.supervisor) : "";
}

std::string difference(const supervisor_spec& a, const supervisor_spec& b) {
  const std::string at = "supervisor " + a.name + ": ";
  const std::pair<const char*, bool> fields[] = {
      {"name", a.name == b.name},
      {"strategy", a.how == b.how},
      {"intensity", a.intensity == b.intensity},
      {"period", a.period == b.period},
      {"auto_shutdown", a.auto_shutdown == b.auto_shutdown},
      {"max_children", a.max_children == b.max_children},
      {"on_max_restarts", a.on_max_restarts == b.on_max_restarts},
      {"hold_retry", a.hold_retry == b.hold_retry},
      {"hold_retry_max", a.hold_retry_max == b.hold_retry_max},
      {"default_backoff", a.default_backoff == b.default_backoff},
      {"children", a.children.size() == b.children.size()},
      {"where", a.where == b.where},
  };
  for (const auto& [name, same] : fields) {
    if (!same) {
      return at + name + " differs";
    }
  }
  for (std::size_t i = 0; i < a.children.size(); ++i) {
    if (auto d = difference(a.children[i], b.children[i]); !d.empty()) {
      return d;
    }
  }
  return "";
}

TEST(SpecProperty, EveryGeneratedSpecSurvivesATermRoundTrip) {
  generator g(20261206);
  for (int i = 0; i < iterations; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    auto spec = random_supervisor(g, 0);
    auto back = supervisor_spec_from_term(to_term(spec));
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_EQ(difference(spec, *back), "");
    ASSERT_EQ(*back, spec);
    auto child = random_child(g, 0, 0);
    auto child_back = child_spec_from_term(to_term(child));
    ASSERT_TRUE(child_back) << child_back.error().message();
    ASSERT_EQ(difference(child, *child_back), "");
  }
}

TEST(SpecProperty, ARoundTrippedTreeNeedsNoReload) {
  generator g(7);
  for (int i = 0; i < iterations; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    auto spec = random_supervisor(g, 0);
    auto back = supervisor_spec_from_term(to_term(spec));
    ASSERT_TRUE(back) << back.error().message();
    auto plan = config::diff(spec, *back);
    ASSERT_TRUE(plan.empty()) << config::describe(plan);
  }
}

// -- one field changed at a time ----------------------------------------------------------

/// A change to one field of a worker, and what a reload does about it.
struct child_mutation {
  std::string name; ///< as a reload plan names it
  config::action expected;
  std::function<void(child_spec&)> change;
};

std::vector<child_mutation> child_mutations() {
  using config::action;
  auto next = [](auto e, int count) {
    return static_cast<decltype(e)>((static_cast<int>(e) + 1) % count);
  };
  return {
      {"restart", action::update, [=](child_spec& c) { c.restart = next(c.restart, 3); }},
      {"shutdown", action::update,
       [](child_spec& c) {
         c.shutdown = c.shutdown.how == shutdown_policy::kind::timeout
                          ? shutdown_policy::brutal_kill()
                          : shutdown_policy::after(c.shutdown.timeout + 1ms);
       }},
      {"significant", action::update, [](child_spec& c) { c.significant = !c.significant; }},
      {"backoff", action::update,
       [](child_spec& c) {
         c.backoff = c.backoff ? std::nullopt : std::optional(backoff_policy{});
       }},
      {"kind", action::restart, [](child_spec& c) { c.kind += "x"; }},
      {"args", action::restart,
       [](child_spec& c) {
         c.args = term::map({{atom("changed"), c.args}});
       }},
      {"mode", action::restart, [](child_spec& c) { c.mode += "x"; }},
      {"command", action::restart, [](child_spec& c) { c.os.command.emplace_back("x"); }},
      {"env", action::restart, [](child_spec& c) { c.os.env["CHANGED"] += "x"; }},
      {"cwd", action::restart, [](child_spec& c) { c.os.cwd += "x"; }},
      {"umask", action::restart,
       [](child_spec& c) { c.os.umask = c.os.umask ? std::nullopt : std::optional(022U); }},
      {"user", action::restart, [](child_spec& c) { c.os.user += "x"; }},
      {"group", action::restart, [](child_spec& c) { c.os.group += "x"; }},
      {"stop_signal", action::restart, [](child_spec& c) { c.os.stop_signal += "x"; }},
      {"rlimits", action::restart,
       [](child_spec& c) {
         auto& limit = c.os.rlimits["nproc"];
         limit.soft = limit.soft == 1 ? 2 : 1;
       }},
      {"may_send", action::restart, [](child_spec& c) { c.os.may_send.emplace_back("x"); }},
      {"limits", action::restart,
       [](child_spec& c) { c.os.limits.pids = c.os.limits.pids.value_or(0) + 1; }},
      {"type", action::restart,
       [](child_spec& c) {
         c.type = child_type::supervisor;
         c.supervisor = std::make_shared<const supervisor_spec>();
       }},
  };
}

TEST(SpecProperty, EveryChildFieldCountsForEqualityTheCodecAndTheReloadPlan) {
  generator g(42);
  for (int i = 0; i < iterations / 10; ++i) {
    auto child = random_child(g, 3, 0); // depth 3: a worker
    supervisor_spec old;
    old.children = {child};
    for (const auto& m : child_mutations()) {
      SCOPED_TRACE("iteration " + std::to_string(i) + ", " + m.name);
      child_spec changed = child;
      m.change(changed);
      EXPECT_NE(changed, child);
      auto back = child_spec_from_term(to_term(changed));
      ASSERT_TRUE(back) << back.error().message();
      EXPECT_EQ(difference(changed, *back), "");
      supervisor_spec next;
      next.children = {changed};
      auto plan = config::diff(old, next);
      ASSERT_EQ(plan.changes.size(), 1U) << config::describe(plan);
      EXPECT_EQ(plan.changes[0].what, m.expected) << config::describe(plan);
      EXPECT_EQ(plan.changes[0].reason, m.name + " changed");
    }
    child_spec moved = child;
    moved.where.line += 1;
    EXPECT_EQ(moved, child) << "where a child is written is not part of it";
  }
}

/// A change to one flag of a supervisor, as a reload plan names it.
struct supervisor_mutation {
  std::string name;
  std::function<void(supervisor_spec&)> change;
};

TEST(SpecProperty, EverySupervisorFlagCountsForEqualityTheCodecAndTheReloadPlan) {
  auto other = [](auto e, int count) {
    return static_cast<decltype(e)>((static_cast<int>(e) + 1) % count);
  };
  const std::vector<supervisor_mutation> mutations{
      // one_for_one <-> one_for_all <-> rest_for_one: a switch to or from simple_one_for_one
      // restarts everything instead.
      {"strategy", [=](supervisor_spec& s) { s.how = other(s.how, 3); }},
      {"intensity", [](supervisor_spec& s) { s.intensity += 1; }},
      {"period", [](supervisor_spec& s) { s.period += 1ms; }},
      {"auto_shutdown", [=](supervisor_spec& s) { s.auto_shutdown = other(s.auto_shutdown, 3); }},
      {"max_children", [](supervisor_spec& s) { s.max_children += 1; }},
      {"on_max_restarts",
       [=](supervisor_spec& s) { s.on_max_restarts = other(s.on_max_restarts, 2); }},
      {"hold_retry", [](supervisor_spec& s) { s.hold_retry += 1ms; }},
      {"hold_retry_max", [](supervisor_spec& s) { s.hold_retry_max += 1ms; }},
      {"crash_backoff",
       [](supervisor_spec& s) {
         s.default_backoff = s.default_backoff ? std::nullopt : std::optional(backoff_policy{});
       }},
  };
  generator g(99);
  for (int i = 0; i < iterations / 10; ++i) {
    auto old = random_supervisor(g, 0);
    if (old.how == strategy::simple_one_for_one) {
      old.how = strategy::one_for_one;
    }
    for (const auto& m : mutations) {
      SCOPED_TRACE("iteration " + std::to_string(i) + ", " + m.name);
      supervisor_spec next = old;
      m.change(next);
      EXPECT_NE(next, old);
      auto back = supervisor_spec_from_term(to_term(next));
      ASSERT_TRUE(back) << back.error().message();
      EXPECT_EQ(difference(next, *back), "");
      auto plan = config::diff(old, next);
      ASSERT_FALSE(plan.changes.empty());
      EXPECT_EQ(plan.changes[0],
                (config::child_change{{}, config::action::update, m.name + " changed"}));
    }
    supervisor_spec renamed = old;
    renamed.name += "x";
    EXPECT_NE(renamed, old);
  }
}

TEST(SpecProperty, AChangedTemplateUpdatesItsSimpleSupervisor) {
  generator g(5);
  for (int i = 0; i < iterations / 10; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    auto old = random_supervisor(g, 0);
    old.how = strategy::simple_one_for_one;
    old.children = {random_child(g, 3, 0)};
    auto next = old;
    next.children[0].os.rlimits["core"] = resource_limit{0, 0};
    next.children[0].os.group += "x";
    EXPECT_NE(next, old);
    EXPECT_EQ(config::diff(old, next).changes.at(0).reason, "child template changed");
  }
}

} // namespace
} // namespace vigil::supervision
