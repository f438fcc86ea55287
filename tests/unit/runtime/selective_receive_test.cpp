// SPDX-License-Identifier: Apache-2.0
// Semantics 9-11 behind long mailboxes, where a receive whose clauses have fixed heads
// ({:tag, _}, {ref, _}) looks only at the messages filed under those heads: the answers
// must be exactly those of a scan of every message, oldest first, clauses top to bottom.
#include "runtime_fixture.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace vigil::test {
namespace {

using SelectiveReceive = runtime_test;

// Longer than the length at which the runtime starts indexing a mailbox.
constexpr int backlog = 200;

const atom a("a");
const atom b("b");
const atom c("c");
const atom junk("junk");
const atom ready("ready");
const atom go("go");

pattern tagged(atom tag) {
  return pattern::tuple({tag, pattern::bind("x")});
}

/// What a receive must return: the oldest message that matches any clause, with the first
/// clause that matches it.
std::optional<std::pair<term, int>> reference_take(std::deque<term>& queue,
                                                   std::span<const pattern> clauses) {
  for (auto it = queue.begin(); it != queue.end(); ++it) {
    for (std::size_t i = 0; i < clauses.size(); ++i) {
      if (clauses[i].matches(*it)) {
        auto found = std::make_pair(*it, static_cast<int>(i));
        queue.erase(it);
        return found;
      }
    }
  }
  return std::nullopt;
}

// semantics 9: with several clauses, the oldest message that matches any of them wins, and
// the clause reported is the first one that matches it
TEST_F(SelectiveReceive, OldestMatchAcrossClausesWinsBehindALongMailbox) {
  for (int i = 0; i < backlog; ++i) {
    rt.send(me(), make_tuple(junk, i));
    if (i == backlog / 2) {
      rt.send(me(), make_tuple(b, 1));
      rt.send(me(), make_tuple(a, 2));
      rt.send(me(), make_tuple(b, 3));
    }
  }
  const std::vector<pattern> a_or_b = {tagged(a), tagged(b)};
  auto first = box->receive(a_or_b, guard);
  ASSERT_TRUE(first);
  EXPECT_EQ(first.message, make_tuple(b, 1));
  EXPECT_EQ(first.clause, 1);
  EXPECT_EQ(first[0], term(1));
  auto second = box->receive(tagged(a), guard);
  ASSERT_TRUE(second);
  EXPECT_EQ(second.message, make_tuple(a, 2));
  auto rest = box->flush();
  ASSERT_EQ(rest.size(), static_cast<std::size_t>(backlog) + 1);
  EXPECT_EQ(rest[backlog / 2 + 1], make_tuple(b, 3)) << "unmatched messages keep their order";
  EXPECT_EQ(rest.front(), make_tuple(junk, 0));
  EXPECT_EQ(rest.back(), make_tuple(junk, backlog - 1));
}

// semantics 9: a clause without a fixed head ({x, 2}) can match a message of any shape, so it
// sees older messages than the fixed-head clause beside it
TEST_F(SelectiveReceive, AClauseWithoutAFixedHeadStillGetsTheOldestMatch) {
  for (int i = 0; i < backlog; ++i) {
    rt.send(me(), make_tuple(junk, i, i));
  }
  rt.send(me(), make_tuple(a, 1, 2)); // {:a, _} does not match arity 3
  rt.send(me(), make_tuple("text", 2));
  rt.send(me(), make_tuple(a, 1));
  const std::vector<pattern> clauses = {tagged(a),
                                        pattern::tuple({pattern::bind("y"), pattern(term(2))})};
  auto first = box->receive(clauses, guard);
  ASSERT_TRUE(first);
  EXPECT_EQ(first.message, make_tuple("text", 2));
  EXPECT_EQ(first.clause, 1);
  auto second = box->receive(clauses, guard);
  ASSERT_TRUE(second);
  EXPECT_EQ(second.message, make_tuple(a, 1));
  EXPECT_EQ(second.clause, 0);
  auto third = box->receive(tagged(a), timeout::zero());
  EXPECT_FALSE(third) << "{:a, 1, 2} has another arity";
  EXPECT_EQ(box->flush().size(), static_cast<std::size_t>(backlog) + 1);
}

// semantics 10: `after 0` and `after T` behind a long mailbox: a match is taken at once, no
// match times out and consumes nothing
TEST_F(SelectiveReceive, AfterBehindALongMailboxConsumesNothing) {
  for (int i = 0; i < backlog; ++i) {
    rt.send(me(), make_tuple(junk, i));
  }
  EXPECT_FALSE(box->receive(tagged(a), timeout::zero()));
  EXPECT_FALSE(box->receive(tagged(a), 20ms));
  rt.send(me(), make_tuple(a, 7));
  auto r = box->receive(tagged(a), timeout::zero());
  ASSERT_TRUE(r);
  EXPECT_EQ(r[0], term(7));
  auto rest = box->flush();
  ASSERT_EQ(rest.size(), static_cast<std::size_t>(backlog));
  for (int i = 0; i < backlog; ++i) {
    EXPECT_EQ(rest[static_cast<std::size_t>(i)], make_tuple(junk, i));
  }
}

task<> wait_for_go(context& self, pid report) {
  for (int i = 0; i < backlog; ++i) {
    self.send(self.self(), make_tuple(junk, i));
  }
  self.send(report, ready);
  // The first scan finds nothing among the backlog and suspends; what arrives next is
  // tested in arrival order.
  const auto go_clause = tagged(go);
  auto r = co_await self.receive(go_clause);
  self.send(report, r.message);
  for (term& m : self.flush()) {
    self.send(report, std::move(m));
  }
}

// semantics 9, 11: messages that arrive while a receive waits are tested as they come, and
// the first that matches is taken; the others stay behind the backlog in arrival order
TEST_F(SelectiveReceive, MessagesArrivingDuringAWaitAreTestedInOrder) {
  pid p = rt.spawn(wait_for_go, me());
  EXPECT_EQ(next(), term(ready));
  rt.send(p, make_tuple(c, 1));
  rt.send(p, make_tuple(go, 1));
  rt.send(p, make_tuple(go, 2));
  EXPECT_EQ(next(), make_tuple(go, 1));
  for (int i = 0; i < backlog; ++i) {
    EXPECT_EQ(next(), make_tuple(junk, i));
  }
  // {c, 1} and {go, 2} arrived while the receive waited, in this order; the receive may
  // have seen them before or after it suspended, but never out of order.
  EXPECT_EQ(next(), make_tuple(c, 1));
  EXPECT_EQ(next(), make_tuple(go, 2));
}

const atom data("data");
const atom ctl("ctl");
const atom ctl2("ctl2");

task<> interleaved_sender(context& self, pid to, int sender, int count) {
  for (int i = 0; i < count; ++i) {
    self.send(to, make_tuple(data, sender, i));
    self.send(to, make_tuple(i % 2 == 0 ? ctl : ctl2, sender, i));
    if (i % 50 == 0) {
      co_await self.yield();
    }
  }
}

/// Takes every {:ctl | :ctl2, sender, i} while senders keep sending, then checks that the
/// junk and the {:data, sender, i} are left whole and in order; reports :ok or what broke.
task<> control_reader(context& self, pid report, int senders, int count) {
  for (int i = 0; i < backlog; ++i) {
    self.send(self.self(), make_tuple(junk, i));
  }
  self.send(report, ready);
  const std::vector<pattern> controls = {
      pattern::tuple({ctl, pattern::bind("s"), pattern::bind("i")}),
      pattern::tuple({ctl2, pattern::bind("s"), pattern::bind("i")}),
  };
  std::vector<std::int64_t> next(static_cast<std::size_t>(senders), 0);
  for (int k = 0; k < senders * count; ++k) {
    auto r = co_await self.receive(controls);
    auto from = static_cast<std::size_t>(r[0].as_integer());
    if (r[1].as_integer() != next[from] || r.clause != static_cast<int>(next[from] % 2)) {
      self.send(report, make_tuple("control out of order", r.message));
      co_return;
    }
    ++next[from];
  }
  std::vector<term> rest = self.flush(); // each sender's data came before its last control
  std::fill(next.begin(), next.end(), 0);
  std::size_t junk_seen = 0;
  for (const term& m : rest) {
    if (m[0].is(junk)) {
      if (m[1].as_integer() != static_cast<std::int64_t>(junk_seen++)) {
        self.send(report, make_tuple("junk out of order", m));
        co_return;
      }
      continue;
    }
    auto from = static_cast<std::size_t>(m[1].as_integer());
    if (!m[0].is(data) || m[2].as_integer() != next[from]++) {
      self.send(report, make_tuple("data out of order", m));
      co_return;
    }
  }
  bool whole = junk_seen == static_cast<std::size_t>(backlog)
               && std::all_of(next.begin(), next.end(), [&](auto n) { return n == count; });
  self.send(report, whole ? term(atoms::ok) : term("messages missing"));
}

// semantics 6, 9: while four senders keep sending, a receive with two fixed-head clauses
// behind a long mailbox takes each sender's controls in its send order, across both
// clauses, and leaves every other message in per-sender order
TEST_F(SelectiveReceive, ConcurrentSendersKeepTheirOrderThroughIndexedReceives) {
  constexpr int senders = 4;
  constexpr int count = 1000;
  pid reader = rt.spawn(control_reader, me(), senders, count);
  EXPECT_EQ(next(), term(ready));
  for (int s = 0; s < senders; ++s) {
    rt.spawn(interleaved_sender, reader, s, count);
  }
  EXPECT_EQ(next(), term(atoms::ok));
}

/// One random message of many shapes: fixed heads of every indexed kind, heads the index
/// does not file (floats, strings), and non-tuples.
term random_message(std::mt19937& rng, reference ref, pid someone) {
  std::int64_t k = static_cast<std::int64_t>(rng() % 3);
  switch (rng() % 12) {
  case 0: return make_tuple(a, k);
  case 1: return make_tuple(b, k);
  case 2: return make_tuple(a, k, k);
  case 3: return make_tuple(k, 2);
  case 4: return make_tuple(42, k);
  case 5: return term(k);
  case 6: return make_tuple(1.5, k);
  case 7: return make_tuple(ref, k);
  case 8: return make_tuple(someone, k);
  case 9: return make_tuple("s", 2);
  case 10: return term::list({term(k)});
  default: return make_tuple(c, k);
  }
}

// semantics 9, 10: a long random run of receives with every kind of clause set (fixed heads
// of each kind, a ground tuple, clauses without a fixed head, mixed, `any`) on a mailbox that
// grows past the indexing length and empties again gives, receive by receive, what a full
// scan gives, and leaves the same messages in the same order
TEST_F(SelectiveReceive, EveryReceiveAgreesWithAFullScan) {
  const reference ref = box->ctx().make_ref();
  const pid someone{0, 999'999, 1};
  const pattern any_integer = pattern::bind("n", type_test::integer);
  const pattern second_is_two = pattern::tuple({pattern::bind("y"), pattern(term(2))});
  const std::vector<std::vector<pattern>> clause_sets = {
      {tagged(a)},
      {tagged(b)},
      {pattern::tuple({a, pattern::bind("x"), pattern::any()})},
      {pattern::tuple({a, pattern(term(1))})}, // ground: one literal
      {second_is_two},
      {any_integer},
      {tagged(a), tagged(b)},
      {pattern::tuple({a, pattern(term(1))}), tagged(a)},
      {tagged(b), second_is_two},
      {pattern::tuple({pattern(term(42)), pattern::bind("x")}),
       pattern::tuple({pattern(term(ref)), pattern::bind("x")})},
      {pattern::tuple({pattern(term(someone)), pattern::bind("x")}), tagged(c)},
      {}, // `any`
  };
  std::mt19937 rng(20261206);
  std::deque<term> expected;
  auto send = [&] {
    term m = random_message(rng, ref, someone);
    expected.push_back(m);
    rt.send(me(), std::move(m));
  };
  int matched = 0;
  for (int phase = 0; phase < 4; ++phase) {
    int fill = phase % 2 == 0 ? 3 * backlog : 20; // long from the start, or growing
    for (int i = 0; i < fill; ++i) {
      send();
    }
    for (int step = 0; step < 2000; ++step) {
      if (rng() % 4 == 0) {
        send();
        continue;
      }
      const auto& clauses = clause_sets[rng() % clause_sets.size()];
      std::optional<std::pair<term, int>> want;
      received got;
      if (clauses.empty()) {
        if (!expected.empty()) {
          want.emplace(expected.front(), 0);
          expected.pop_front();
        }
        got = box->receive(timeout::zero());
      } else {
        want = reference_take(expected, clauses);
        got = box->receive(clauses, timeout::zero());
      }
      ASSERT_EQ(static_cast<bool>(got), want.has_value()) << "phase " << phase << " step " << step;
      if (want) {
        ASSERT_EQ(got.message, want->first) << "phase " << phase << " step " << step;
        ASSERT_EQ(got.clause, want->second) << "phase " << phase << " step " << step;
        ++matched;
      }
    }
    // Emptying the mailbox drops its index; the next phase starts a new one.
    auto rest = box->flush();
    ASSERT_EQ(std::vector<term>(expected.begin(), expected.end()), rest) << "phase " << phase;
    expected.clear();
  }
  EXPECT_GT(matched, 1000);
}

} // namespace
} // namespace vigil::test
