// SPDX-License-Identifier: Apache-2.0
#include "vigil/term/term.hpp"

#include "vigil/term/text.hpp"

#include "term_generator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <span>
#include <thread>
#include <vector>

namespace vigil {
namespace {

using namespace vigil::literals;

TEST(Term, FitsInSixteenBytes) {
  EXPECT_EQ(sizeof(term), 16U);
}

TEST(Term, DefaultIsTheAtomNil) {
  term uut;
  EXPECT_TRUE(uut.is(atoms::nil));
  EXPECT_EQ(uut.as_atom().name(), "nil");
}

TEST(Atom, InterningTheSameNameGivesTheSameAtom) {
  atom a("some_name");
  atom b(std::string("some_") + "name");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.name(), "some_name");
  EXPECT_EQ("ok"_a, atoms::ok);
  EXPECT_EQ(atoms::exit.name(), "EXIT");
}

TEST(Atom, RejectsNamesLongerThanTheLimit) {
  std::string long_name(atom::max_length + 1, 'a');
  EXPECT_FALSE(atom::try_make(long_name).has_value());
  EXPECT_TRUE(atom::try_make(std::string(atom::max_length, 'a')).has_value());
}

TEST(AtomBudget, NewAtomsFromOneSourceStopAtItsBudgetWhileKnownOnesStillWork) {
  atom_budget budget(3);
  for (const char* name : {"budget_test_new_1", "budget_test_new_2", "budget_test_new_3"}) {
    EXPECT_TRUE(atom::try_make(name, budget).has_value()) << name;
  }
  auto before = atom::count();
  EXPECT_FALSE(atom::try_make("budget_test_new_4", budget).has_value());
  EXPECT_EQ(atom::count(), before) << "a refused name is not interned";
  EXPECT_EQ(atom::try_make("budget_test_new_2", budget), atom("budget_test_new_2"));
  EXPECT_EQ(atom::try_make("ok", budget), atoms::ok) << "atoms that exist cost nothing";
  EXPECT_EQ(budget.used(), 3U);
}

TEST(AtomBudget, ASourceAlsoDrawsOnItsParent) {
  atom_budget all(2);
  atom_budget first(10, &all);
  atom_budget second(10, &all);
  EXPECT_TRUE(atom::try_make("budget_parent_a", first).has_value());
  EXPECT_TRUE(atom::try_make("budget_parent_b", second).has_value());
  EXPECT_FALSE(atom::try_make("budget_parent_c", first).has_value());
  EXPECT_EQ(first.used(), 1U) << "a refusal by the parent takes nothing from the child";
}

TEST(AtomBudget, TextFromOutsideStopsAtItsBudget) {
  atom_budget budget(1);
  parse_limits limits;
  limits.new_atoms = &budget;
  EXPECT_TRUE(parse_term("{:budget_text_one, :ok}", limits));
  auto refused = parse_term("{:budget_text_two}", limits);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("new atom 'budget_text_two' refused"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(parse_term("[:budget_text_one, \"strings are free\"]", limits));
}

TEST(Atom, FindDoesNotIntern) {
  auto before = atom::count();
  EXPECT_FALSE(atom::find("never_interned_by_anyone_42").has_value());
  EXPECT_EQ(atom::count(), before);
}

TEST(Atom, ConcurrentInterningAgreesOnIds) {
  constexpr int threads = 4;
  std::vector<std::vector<atom>> seen(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&seen, t] {
      for (int i = 0; i < 500; ++i) {
        seen[static_cast<std::size_t>(t)].push_back(atom("concurrent_" + std::to_string(i)));
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  for (int t = 1; t < threads; ++t) {
    EXPECT_EQ(seen[0], seen[static_cast<std::size_t>(t)]);
  }
}

TEST(Term, ScalarsKeepTheirValues) {
  EXPECT_EQ(term(42).as_integer(), 42);
  EXPECT_EQ(term(std::numeric_limits<std::int64_t>::min()).as_integer(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(term(1.5).as_float(), 1.5);
  EXPECT_TRUE(term(true).is(atoms::true_));
  pid p{0, 74, 3};
  EXPECT_EQ(term(p).as_pid(), p);
  reference r{reference::max_node, 1, 2, 3};
  EXPECT_EQ(term(r).as_reference(), r);
}

TEST(Term, ShortStringsAreInlineAndLongOnesShared) {
  term small("fourteen bytes");
  EXPECT_EQ(small.as_string(), "fourteen bytes");
  EXPECT_EQ(small.heap_bytes(), 0U);
  term large("a string that does not fit inline");
  EXPECT_EQ(large.as_string(), "a string that does not fit inline");
  term copy = large;
  EXPECT_EQ(copy.as_string().data(), large.as_string().data()) << "copies share one block";
}

TEST(Term, EmptyContainersDoNotAllocate) {
  EXPECT_EQ(term::tuple({}).heap_bytes(), 0U);
  EXPECT_EQ(term::list({}).heap_bytes(), 0U);
  EXPECT_EQ(term::map({}).heap_bytes(), 0U);
  EXPECT_TRUE(term::tuple({}).is_tuple());
  EXPECT_TRUE(term::list({}).is_list());
  EXPECT_TRUE(term::map({}).is_map());
}

TEST(Term, TuplesHoldTheirElementsInOrder) {
  pid self{0, 57, 0};
  term uut = make_tuple(self, atoms::ok);
  ASSERT_TRUE(uut.is_tuple());
  ASSERT_EQ(uut.size(), 2U);
  EXPECT_EQ(uut[0].as_pid(), self);
  EXPECT_TRUE(uut[1].is(atoms::ok));
}

TEST(Term, MakeTupleCopiesWhatItIsLentAndTakesWhatItIsGiven) {
  term lent = term::list({"a string long enough to live in a shared block", 1});
  term given = term::list({2, 3});
  term uut = make_tuple(lent, std::move(given), term(), 7);
  ASSERT_EQ(uut.size(), 4U);
  EXPECT_EQ(uut[0], term::list({"a string long enough to live in a shared block", 1}));
  EXPECT_EQ(lent, uut[0]); // still usable, and equal: the tuple shares its block
  EXPECT_EQ(uut[1], term::list({2, 3}));
  EXPECT_EQ(uut[2], term());
  EXPECT_EQ(uut[3].as_integer(), 7);
  EXPECT_TRUE(make_tuple().is_tuple());
  EXPECT_EQ(make_tuple().size(), 0U);
}

// make_tuple builds elements in place when none can throw, through an array otherwise
// (text allocates): both give the tuple term::tuple gives, element for element.
TEST(Term, MakeTupleEqualsTheTupleBuiltFromAList) {
  pid p{0, 9, 4};
  EXPECT_EQ(make_tuple(atoms::ok, p, -5, 2.5, true), term::tuple({atoms::ok, p, -5, 2.5, true}));
  const char* text = "a text long enough to need a block of its own";
  EXPECT_EQ(make_tuple(text, 1), term::tuple({text, 1}));
  EXPECT_EQ(make_tuple(atoms::ok, p).hash(), term::tuple({atoms::ok, p}).hash());
}

TEST(Term, ReadingPastATuplesEndAborts) {
  term uut = make_tuple(1, 2);
  EXPECT_DEATH((void)uut[2], "");
  EXPECT_DEATH((void)uut[0].as_pid(), "");
  EXPECT_DEATH((void)term(atoms::ok).as_integer(), "");
}

TEST(Term, MapsSortKeysAndKeepTheLastOfRepeatedKeys) {
  term uut = term::map({{"k", 2}, {atom("key"), 1}, {"k", 3}});
  ASSERT_EQ(uut.size(), 2U);
  EXPECT_TRUE(uut.map_key(0).is(atom("key"))) << "atoms sort before strings";
  EXPECT_EQ(uut.map_key(1).as_string(), "k");
  ASSERT_NE(uut.find("k"), nullptr);
  EXPECT_EQ(uut.find("k")->as_integer(), 3);
  EXPECT_EQ(uut.find("missing"), nullptr);
}

TEST(Term, EqualityIsExact) {
  EXPECT_NE(term(1), term(1.0));
  EXPECT_NE(term(0.0), term(-0.0));
  EXPECT_EQ(term::list({1, 2}), term::list({1, 2}));
  EXPECT_NE(term::list({1, 2}), term::tuple({1, 2}));
  EXPECT_EQ(term("same long string, not inline"), term("same long string, not inline"));
}

TEST(Term, OrderFollowsErlang) {
  // number < atom < reference < pid < tuple < map < list < binary
  std::vector<term> ascending = {1,
                                 1.5,
                                 atoms::ok,
                                 reference{0, 1, 2, 3},
                                 pid{0, 1, 0},
                                 term::tuple({}),
                                 term::map({}),
                                 term::list({}),
                                 "text"};
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i) {
    EXPECT_LT(compare(ascending[i], ascending[i + 1]), 0) << "at " << i;
    EXPECT_GT(compare(ascending[i + 1], ascending[i]), 0) << "at " << i;
  }
  EXPECT_LT(compare(1, 1.0), 0) << "an integer sorts just before the equal float";
  EXPECT_LT(compare(2, 2.5), 0);
  EXPECT_LT(compare(atom("abc"), atom("abd")), 0) << "atoms sort by name";
  EXPECT_LT(compare(term::tuple({9}), term::tuple({1, 1})), 0) << "tuples sort by size first";
  EXPECT_LT(compare(term::list({1}), term::list({1, 0})), 0);
}

TEST(Term, GeneratedTermsAreEqualToTheirCopiesAndOrderedConsistently) {
  test::term_generator gen(7);
  for (int i = 0; i < 500; ++i) {
    term a = gen.next();
    term b = gen.next();
    term a_copy = a;
    EXPECT_EQ(a, a_copy);
    EXPECT_EQ(compare(a, a_copy), 0);
    EXPECT_EQ(a.hash(), a_copy.hash());
    EXPECT_EQ(compare(a, b) == 0, a == b);
    EXPECT_EQ(compare(a, b), -compare(b, a));
  }
}

TEST(Term, CopiesShareAcrossThreadsSafely) {
  term shared = term::list({"a long string, shared by all threads", make_tuple(1, 2)});
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([shared] {
      for (int i = 0; i < 10000; ++i) {
        term local = shared;
        term moved = std::move(local);
        ASSERT_EQ(moved.size(), 2U);
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  EXPECT_EQ(shared.size(), 2U);
}

TEST(Term, DestroyingAMillionNestedListsDoesNotOverflowTheStack) {
  term t = term::list({});
  for (int i = 0; i < 1'000'000; ++i) {
    t = term::list(std::span<const term>(&t, 1));
  }
  EXPECT_EQ(t.size(), 1U);
  t = term();
  EXPECT_TRUE(t.is(atoms::nil));
}

TEST(Term, DestroyingDeepTermsKeepsSharedPartsAlive) {
  term shared = term::tuple({"a string too long to be stored inline", 1});
  term t = shared;
  std::vector<term> kept;
  for (int i = 0; i < 30'000; ++i) {
    switch (i % 3) {
    case 0: t = term::tuple({t, shared}); break;
    case 1: t = term::map({{i, t}, {"key", "a value long enough to live on the heap"}}); break;
    default: t = term::list({shared, t, i}); break;
    }
    if (i % 3'000 == 0) {
      kept.push_back(t);
    }
  }
  t = term();
  ASSERT_EQ(kept.size(), 10U);
  EXPECT_EQ(kept[1].size(), 2U) << "a kept inner term survives its container";
  EXPECT_EQ(kept[0][0], shared);
  EXPECT_EQ(shared[0].as_string(), "a string too long to be stored inline");
}

TEST(Term, AssigningAnElementOfItselfKeepsTheElement) {
  term t = term::list({term::tuple({"a string too long to be stored inline", 2}), 3});
  t = t[0];
  EXPECT_EQ(t, term::tuple({"a string too long to be stored inline", 2}));
}

} // namespace
} // namespace vigil
