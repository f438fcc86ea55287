// SPDX-License-Identifier: Apache-2.0
// Thousands of processes sending, linking, monitoring, trapping and killing at random on
// several scheduler threads, for a bounded number of operations; then the invariants of
// docs/erlang-semantics.md that must hold whatever the interleaving. Run it under ASan (dev
// preset) and TSan (tsan preset). VIGIL_STRESS_SEED=<n> replays another random run.
#include "vigil/term/text.hpp"

#include "stress_actors.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace vigil::stress {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t actor_count = 2000;
constexpr std::size_t watcher_count = 4;
/// Bounds every wait of the test, so that a lost signal fails instead of hanging.
constexpr auto patience = 60s;

/// Aborts the whole test program if one test runs longer than `limit`: a deadlock inside
/// the runtime (a wait no deadline covers) then fails loudly.
class watchdog {
public:
  explicit watchdog(std::chrono::seconds limit)
      : thread_([this, limit] {
          std::unique_lock lock(mutex_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "runtime stress test: no progress for %llds, aborting\n",
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}

  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  watchdog(watchdog&&) = delete;
  watchdog& operator=(watchdog&&) = delete;

  ~watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

std::uint64_t seed_from_env() {
  const char* text = std::getenv("VIGIL_STRESS_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : 20240601U;
}

/// What the test's own mailbox (the observer) has seen.
struct observation {
  std::map<pid, std::size_t> index_of;
  std::map<reference, std::size_t> actor_of_ref;
  std::vector<std::optional<term>> reasons; ///< the DOWN reason per actor
  std::size_t downs = 0;
  std::set<pid> done;
  std::set<pid> watchers_done;
  std::vector<std::string> problems;
};

class RuntimeStress : public ::testing::TestWithParam<unsigned> {
protected:
  void SetUp() override {
    env_.seed = seed_from_env();
    rt_ = std::make_unique<runtime>(runtime_options{.schedulers = GetParam()});
    box_ = rt_->make_mailbox();
    env_.observer = box_->self();
  }

  void TearDown() override {
    box_.reset();
    rt_.reset();
  }

  /// Spawns the actors and watchers, monitors every actor, and sends :go to all.
  void start() {
    obs_.reasons.resize(actor_count);
    for (std::size_t i = 0; i < actor_count; ++i) {
      spawn_options o;
      o.trap_exit = role_of(i) == role::trapper;
      if (is_named(i)) {
        o.name = atom("stress_" + std::to_string(i));
        env_.names.push_back(*o.name);
      }
      auto p = rt_->spawn_opt(o, actor, &env_, i);
      ASSERT_TRUE(p.has_value()) << "spawn " << i << ": " << p.error().context;
      env_.actors.push_back(*p);
      obs_.index_of[*p] = i;
      obs_.actor_of_ref[box_->ctx().monitor(*p)] = i;
    }
    std::vector<pid> all = env_.actors;
    for (std::size_t w = 0; w < watcher_count; ++w) {
      all.push_back(rt_->spawn(watcher, &env_, w));
    }
    for (pid p : all) {
      rt_->send(p, go_atom());
    }
  }

  /// Takes one message into `obs_`; false after `wait` without one.
  bool pump(timeout wait) {
    auto r = box_->receive(wait);
    if (!r) {
      return false;
    }
    const term& m = r.message;
    if (m.is_tuple() && m.size() == 5 && m[0].is(atoms::down)) {
      auto it = obs_.actor_of_ref.find(m[1].as_reference());
      if (it == obs_.actor_of_ref.end()) {
        obs_.problems.push_back("observer: a DOWN for no monitor: " + to_string(m));
      } else if (obs_.reasons[it->second]) {
        obs_.problems.push_back("observer: a second DOWN: " + to_string(m));
      } else {
        obs_.reasons[it->second] = m[4];
        ++obs_.downs;
      }
    } else if (m.is_tuple() && m.size() == 2 && m[0].is(done_atom())) {
      obs_.done.insert(m[1].as_pid());
    } else if (m.is_tuple() && m.size() == 2 && m[0].is(watcher_done_atom())) {
      obs_.watchers_done.insert(m[1].as_pid());
    } else {
      obs_.problems.push_back("observer: an unexpected message: " + to_string(m));
    }
    return true;
  }

  /// Pumps messages until `ready()` or `patience` passes; returns `ready()`.
  template <class Ready>
  bool pump_until(Ready ready) {
    auto deadline = clock_type::now() + patience;
    while (!ready() && clock_type::now() < deadline) {
      (void)pump(20ms);
    }
    return ready();
  }

  /// Actors that neither reported {:done, _} nor died.
  [[nodiscard]] std::size_t unfinished() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < actor_count; ++i) {
      n += obs_.reasons[i].has_value() || obs_.done.count(env_.actors[i]) != 0 ? 0 : 1;
    }
    return n;
  }

  /// Process.info of an actor, alive or not, from outside (semantics 20).
  void probe_info(std::size_t i) {
    pid p = env_.actors[i % actor_count];
    if (auto info = rt_->info(p)) {
      EXPECT_EQ(info->self, p);
    }
  }

  [[nodiscard]] std::optional<role> role_of_pid(pid p) const {
    auto it = obs_.index_of.find(p);
    return it == obs_.index_of.end() ? std::nullopt : std::optional(role_of(it->second));
  }

  /// A process that dies of any non-normal exit signal: a plain actor or a child.
  [[nodiscard]] bool never_traps(pid p) const {
    return role_of_pid(p).value_or(role::plain) == role::plain;
  }

  std::set<pid> must_be_dead(const ledger_data& d) const;
  std::set<pid> may_have_died(const ledger_data& d) const;
  void check_deaths();

  stress_env env_;
  std::unique_ptr<runtime> rt_;
  std::unique_ptr<mailbox> box_;
  observation obs_;
};

/// Semantics 14: the targets of :kill, plain targets of other exit signals, and plain
/// partners (links never unlinked) of processes that died abnormally.
std::set<pid> RuntimeStress::must_be_dead(const ledger_data& d) const {
  std::set<pid> out(d.killed.begin(), d.killed.end());
  for (pid p : d.exit_signalled) {
    if (never_traps(p)) {
      out.insert(p);
    }
  }
  std::set<pid> crash_children;
  for (const auto& c : d.children) {
    if (c.crash) {
      crash_children.insert(c.child);
    }
  }
  // Actors only ever die abnormally; a child only if it crashes on purpose (or its parent
  // died, which makes the parent the abnormal one).
  auto died_abnormally = [&](pid p) {
    return !rt_->alive(p) && (obs_.index_of.count(p) != 0 || crash_children.count(p) != 0);
  };
  for (const auto& l : d.links) {
    if (d.unlinked.count(l.a < l.b ? std::pair{l.a, l.b} : std::pair{l.b, l.a}) != 0) {
      continue;
    }
    if (died_abnormally(l.b) && never_traps(l.a)) {
      out.insert(l.a);
    }
    if (died_abnormally(l.a) && never_traps(l.b)) {
      out.insert(l.b);
    }
  }
  return out;
}

/// Everything some recorded cause could have killed: the closure over all links (unlinked
/// ones too) of kills, exit signals to non-trappers, crashes and crashing children.
std::set<pid> RuntimeStress::may_have_died(const ledger_data& d) const {
  auto by_link = [&](pid p) { return role_of_pid(p) != role::trapper; };
  std::set<pid> out(d.killed.begin(), d.killed.end());
  out.insert(d.crashed.begin(), d.crashed.end());
  for (pid p : d.exit_signalled) {
    if (by_link(p)) {
      out.insert(p);
    }
  }
  for (const auto& c : d.children) {
    if (c.crash) {
      out.insert(c.child);
    }
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& l : d.links) {
      for (auto [from, to] : {std::pair{l.a, l.b}, std::pair{l.b, l.a}}) {
        if (out.count(from) != 0 && by_link(to) && out.insert(to).second) {
          grew = true;
        }
      }
    }
  }
  return out;
}

/// Waits (bounded) for every process that must die to be dead, then checks that every
/// actor nothing could have killed is still alive.
void RuntimeStress::check_deaths() {
  auto d = env_.book.with([](const ledger_data& data) { return data; });
  auto deadline = clock_type::now() + patience;
  std::vector<pid> alive_but_doomed;
  std::size_t doomed_count = 0;
  for (;;) {
    alive_but_doomed.clear();
    auto doomed = must_be_dead(d);
    doomed_count = doomed.size();
    for (pid p : doomed) {
      if (rt_->alive(p)) {
        alive_but_doomed.push_back(p);
      }
    }
    if (alive_but_doomed.empty() || clock_type::now() >= deadline) {
      break;
    }
    (void)pump(10ms);
  }
  for (pid p : alive_but_doomed) {
    obs_.problems.push_back(to_string(p) + " should have died (killed, signalled or linked)");
  }
  auto endangered = may_have_died(d);
  std::size_t survivors = 0;
  for (pid p : env_.actors) {
    if (endangered.count(p) == 0) {
      ++survivors;
      if (!rt_->alive(p)) {
        (void)pump_until([&] { return obs_.reasons[obs_.index_of.at(p)].has_value(); });
        const auto& reason = obs_.reasons[obs_.index_of.at(p)];
        obs_.problems.push_back(to_string(p) + " died though nothing could have killed it: "
                                + (reason ? to_string(*reason) : "no DOWN"));
      }
    }
  }
  std::printf("[ stress   ] links %zu, unlinks %zu, kills %zu, exit signals %zu, crashes %zu, "
              "children %zu; checked: must die %zu, must live %zu\n",
              d.links.size(), d.unlinked.size(), d.killed.size(), d.exit_signalled.size(),
              d.crashed.size(), d.children.size(), doomed_count, survivors);
}

TEST_P(RuntimeStress, RandomSignalsKeepTheInvariants) {
  watchdog dog(240s);
  SCOPED_TRACE("VIGIL_STRESS_SEED=" + std::to_string(env_.seed));
  ASSERT_NO_FATAL_FAILURE(start());

  // Every actor finishes its operations or dies; meanwhile ask some of them for their info.
  std::size_t probe = 0;
  ASSERT_TRUE(pump_until([&] {
    probe_info(probe += 7);
    return unfinished() == 0;
  })) << unfinished()
      << " actors neither finished nor died";

  check_deaths();

  // Kill everyone that is left: every actor has exactly one DOWN, :killed for the survivors.
  std::vector<bool> alive_before(actor_count);
  for (std::size_t i = 0; i < actor_count; ++i) {
    alive_before[i] = !obs_.reasons[i].has_value();
    rt_->exit(env_.actors[i], atoms::kill);
  }
  ASSERT_TRUE(pump_until([&] { return obs_.downs == actor_count; }))
      << obs_.downs << " of " << actor_count << " DOWNs";
  for (std::size_t i = 0; i < actor_count; ++i) {
    EXPECT_FALSE(rt_->alive(env_.actors[i]));
  }
  ASSERT_TRUE(pump_until([&] { return obs_.watchers_done.size() == watcher_count; }));

  // Children and watchers end by themselves; then only the observer is left, and no name.
  auto deadline = clock_type::now() + patience;
  while (rt_->process_count() > 1 && clock_type::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(rt_->process_count(), 1U);
  EXPECT_TRUE(rt_->registered().empty());

  auto d = env_.book.with([](const ledger_data& data) { return data; });
  std::printf("[ stress   ] messages %llu, DOWNs %llu, EXITs %llu taken by actors\n",
              static_cast<unsigned long long>(d.messages_received),
              static_cast<unsigned long long>(d.downs_received),
              static_cast<unsigned long long>(d.exits_received));
  auto problems = obs_.problems;
  problems.insert(problems.end(), d.violations.begin(), d.violations.end());
  for (std::size_t i = 0; i < problems.size() && i < 20; ++i) {
    ADD_FAILURE() << problems[i];
  }
  EXPECT_TRUE(problems.empty()) << problems.size() << " invariant violations";

  box_.reset();
  rt_->shutdown();
  EXPECT_EQ(rt_->process_count(), 0U);
}

TEST_P(RuntimeStress, ShutdownInTheMiddleEndsEveryProcess) {
  watchdog dog(120s);
  ASSERT_NO_FATAL_FAILURE(start());
  // Let about half of the actors finish, then pull the plug with the rest mid-operation.
  ASSERT_TRUE(pump_until([&] { return obs_.done.size() + obs_.downs >= actor_count / 2; }));
  box_.reset();
  rt_->shutdown();
  EXPECT_EQ(rt_->process_count(), 0U);
  EXPECT_TRUE(rt_->registered().empty());
}

INSTANTIATE_TEST_SUITE_P(Schedulers, RuntimeStress, ::testing::Values(2U, 4U),
                         [](const auto& param_info) {
                           return std::to_string(param_info.param) + "Threads";
                         });

} // namespace
} // namespace vigil::stress
