// SPDX-License-Identifier: Apache-2.0
#include "stress_actors.hpp"

#include "vigil/term/text.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <random>
#include <stdexcept>

namespace vigil::stress {
namespace {

using namespace std::chrono_literals;

const atom msg_atom("msg");
const atom crash_atom("crash");
const atom child_crash_atom("child_crash");

using rng = std::mt19937_64;

std::size_t pick(rng& r, std::size_t n) {
  return static_cast<std::size_t>(std::uniform_int_distribution<std::size_t>(0, n - 1)(r));
}

bool chance(rng& r, int percent) {
  return static_cast<int>(pick(r, 100)) < percent;
}

std::pair<pid, pid> ordered(pid a, pid b) {
  return a < b ? std::pair{a, b} : std::pair{b, a};
}

bool is_down(const term& m) {
  return m.is_tuple() && m.size() == 5 && m[0].is(atoms::down) && m[1].is_reference();
}

bool is_exit(const term& m) {
  return m.is_tuple() && m.size() == 3 && m[0].is(atoms::exit) && m[1].is_pid();
}

/// A spawn_linked child: lives a moment, then exits normally or with {:child_crash}.
task<> child(context& self, bool crash, timeout life) {
  co_await self.sleep(life);
  if (crash) {
    // Built outside the co_await: g++ 12 rejects an initializer list inside it.
    term reason = term::tuple({child_crash_atom});
    co_await self.exit(std::move(reason));
  }
}

/// The state an actor keeps in its frame.
struct actor_state {
  stress_env* env;
  std::size_t index;
  rng random;
  std::int64_t next_seq = 0;
  std::map<pid, std::int64_t> last_seq; ///< the last sequence number seen per sender
  std::set<reference> monitors;         ///< live monitors: a DOWN may come once
  std::set<reference> dropped;          ///< demonitored without flush: a DOWN may come once
  std::vector<pid> partners;            ///< pids this actor linked to

  void fail(const context& self, const std::string& what) const {
    env->book.violation("actor " + to_string(self.self()) + ": " + what);
  }

  [[nodiscard]] pid random_actor() { return env->actors[pick(random, env->actors.size())]; }
};

void on_down(const context& self, actor_state& st, const term& m) {
  reference ref = m[1].as_reference();
  if (st.monitors.erase(ref) == 0 && st.dropped.erase(ref) == 0) {
    st.fail(self, "a DOWN for no live monitor: " + to_string(m));
  }
}

void on_message(const context& self, actor_state& st, const term& m) {
  if (m.is_tuple() && m.size() == 3 && m[0].is(msg_atom) && m[1].is_pid()) {
    std::int64_t& last = st.last_seq[m[1].as_pid()];
    if (m[2].as_integer() <= last) {
      st.fail(self, "messages from one sender out of order: " + to_string(m) + " after "
                        + std::to_string(last)); // semantics 6
    }
    last = m[2].as_integer();
    st.env->book.with([](ledger_data& d) { ++d.messages_received; });
  } else if (is_down(m)) {
    on_down(self, st, m);
    st.env->book.with([](ledger_data& d) { ++d.downs_received; });
  } else if (is_exit(m)) {
    if (role_of(st.index) == role::plain) {
      st.fail(self, "an EXIT message in a process that never trapped exits: " + to_string(m));
    }
    st.env->book.with([](ledger_data& d) { ++d.exits_received; });
  } else {
    st.fail(self, "an unexpected message: " + to_string(m));
  }
}

task<> take_queued(context& self, actor_state& st) {
  for (;;) {
    auto m = co_await self.receive(timeout::zero());
    if (!m) {
      co_return;
    }
    on_message(self, st, m.message);
  }
}

void send_one(context& self, actor_state& st) {
  term m = term::tuple({msg_atom, self.self(), ++st.next_seq});
  if (chance(st.random, 10) && !st.env->names.empty()) {
    (void)self.send(st.env->names[pick(st.random, st.env->names.size())], std::move(m));
  } else {
    self.send(st.random_actor(), std::move(m));
  }
}

void link_one(context& self, actor_state& st) {
  pid target = st.random_actor();
  if (target == self.self() || !self.link(target)) {
    return;
  }
  st.partners.push_back(target);
  st.env->book.with([&](ledger_data& d) { d.links.push_back({self.self(), target}); });
}

void unlink_one(context& self, actor_state& st) {
  if (st.partners.empty()) {
    return;
  }
  pid target = st.partners[pick(st.random, st.partners.size())];
  st.env->book.with([&](ledger_data& d) { d.unlinked.insert(ordered(self.self(), target)); });
  self.unlink(target);
}

void demonitor_one(context& self, actor_state& st) {
  if (st.monitors.empty()) {
    return;
  }
  auto it = std::next(st.monitors.begin(),
                      static_cast<std::ptrdiff_t>(pick(st.random, st.monitors.size())));
  reference ref = *it;
  st.monitors.erase(it);
  bool flush = chance(st.random, 50);
  self.demonitor(ref, flush);
  if (!flush) {
    st.dropped.insert(ref);
  }
}

void signal_one(context& self, actor_state& st, bool kill) {
  pid target = st.random_actor();
  st.env->book.with(
      [&](ledger_data& d) { (kill ? d.killed : d.exit_signalled).push_back(target); });
  self.exit(target, kill ? term(atoms::kill) : term::tuple({atoms::shutdown, self.self()}));
}

void spawn_child(context& self, actor_state& st) {
  bool crash = chance(st.random, 30);
  pid c = self.spawn_link(child, crash, timeout(pick(st.random, 3)));
  if (c == pid{}) {
    return;
  }
  st.env->book.with([&](ledger_data& d) {
    d.children.push_back({self.self(), c, crash});
    d.links.push_back({self.self(), c});
  });
}

/// One random operation. Percentages are per operation.
task<> step(context& self, actor_state& st) {
  auto roll = static_cast<int>(pick(st.random, 1000));
  if (roll < 450) {
    send_one(self, st);
  } else if (roll < 520) {
    link_one(self, st);
  } else if (roll < 550) {
    unlink_one(self, st);
  } else if (roll < 700) {
    st.monitors.insert(self.monitor(st.random_actor()));
  } else if (roll < 740) {
    demonitor_one(self, st);
  } else if (roll < 750) {
    signal_one(self, st, true);
  } else if (roll < 760) {
    signal_one(self, st, false);
  } else if (roll < 790) {
    spawn_child(self, st);
  } else if (roll < 830) {
    if (role_of(st.index) == role::toggler) {
      self.trap_exit(chance(st.random, 50));
    }
  } else if (roll < 834) {
    st.env->book.with([&](ledger_data& d) { d.crashed.push_back(self.self()); });
    if (chance(st.random, 50)) {
      throw std::runtime_error("a crash on purpose"); // ends the process: {:exception, _}
    }
    term reason = term::tuple({crash_atom, static_cast<std::int64_t>(st.index)});
    co_await self.exit(std::move(reason));
  } else if (roll < 870) {
    co_await self.sleep(timeout(pick(st.random, 3)));
  } else if (roll < 890) {
    // A selective receive that times out: the backlog stays in order (semantics 9, 10).
    const pattern never = pattern::tuple({atom("never")});
    co_await self.receive(never, timeout(1 + pick(st.random, 2)));
  } else if (roll < 910) {
    // Work on the blocking pool; a kill meanwhile takes effect when it returns.
    std::size_t n = pick(st.random, 100);
    std::size_t got = co_await self.blocking([n] { return n * 2; });
    if (got != n * 2) {
      st.fail(self, "blocking work returned the wrong value");
    }
  } else {
    co_await self.yield();
  }
}

} // namespace

atom go_atom() {
  return atom("go");
}

atom done_atom() {
  return atom("done");
}

atom watcher_done_atom() {
  return atom("watcher_done");
}

task<> actor(context& self, stress_env* env, std::size_t index) {
  const pattern go(go_atom());
  co_await self.receive(go);
  actor_state st{env, index, rng(env->seed * 1000003U + index)};
  for (int op = 0; op < env->ops_per_actor; ++op) {
    co_await take_queued(self, st);
    co_await step(self, st);
  }
  self.send(env->observer, make_tuple(done_atom(), self.self()));
  for (;;) {
    auto m = co_await self.receive();
    on_message(self, st, m.message);
  }
}

namespace {

/// What a watcher knows about one of its monitors.
enum class watch : std::uint8_t { expect, seen, flushed, dropped, dropped_seen };

void watcher_down(context& self, stress_env* env, std::map<reference, watch>& refs, const term& m,
                  std::size_t& outstanding) {
  auto fail = [&](const char* what) {
    env->book.violation("watcher " + to_string(self.self()) + ": " + what + ": " + to_string(m));
  };
  if (!is_down(m)) {
    fail("an unexpected message");
    return;
  }
  auto it = refs.find(m[1].as_reference());
  if (it == refs.end()) {
    fail("a DOWN for a reference it never made");
    return;
  }
  switch (it->second) {
  case watch::expect:
    it->second = watch::seen;
    --outstanding;
    return;
  case watch::dropped: it->second = watch::dropped_seen; return; // already queued: allowed
  case watch::seen: fail("a second DOWN for one monitor"); return;
  case watch::flushed: fail("a DOWN after demonitor with flush"); return;
  case watch::dropped_seen: fail("a second DOWN after demonitor"); return;
  }
}

} // namespace

task<> watcher(context& self, stress_env* env, std::size_t index) {
  const pattern go(go_atom());
  co_await self.receive(go);
  rng random(env->seed * 7919U + index);
  std::map<reference, watch> refs;
  std::vector<reference> live;
  std::size_t outstanding = 0;
  for (int i = 0; i < env->monitors_per_watcher; ++i) {
    reference ref = self.monitor(env->actors[pick(random, env->actors.size())]);
    refs[ref] = watch::expect;
    live.push_back(ref);
    ++outstanding;
    if (chance(random, 10)) {
      std::size_t k = pick(random, live.size());
      reference drop = live[k];
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
      bool flush = chance(random, 50);
      self.demonitor(drop, flush);
      // DOWNs are only taken after this loop, so a dropped monitor is still `expect`.
      refs[drop] = flush ? watch::flushed : watch::dropped;
      --outstanding;
    }
    if (i % 16 == 0) {
      co_await self.yield();
    }
  }
  while (outstanding > 0) {
    auto m = co_await self.receive(env->watcher_patience);
    if (!m) {
      env->book.violation("watcher " + to_string(self.self()) + ": " + std::to_string(outstanding)
                          + " monitors never had their DOWN");
      break;
    }
    watcher_down(self, env, refs, m.message, outstanding);
  }
  self.send(env->observer, make_tuple(watcher_done_atom(), self.self()));
}

} // namespace vigil::stress
