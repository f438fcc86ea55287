// SPDX-License-Identifier: Apache-2.0
#include "vigil/term/pattern.hpp"

#include "vigil/term/text.hpp"

#include "term_generator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

// Counting replacements of the global allocation functions, so that tests can check that
// matching allocates nothing. They count only while a test on this thread asks them to.
// Every non-aligned form is replaced, so that the sanitizers' own operator new never pairs
// with this file's delete (the aligned forms stay paired inside the runtime).
namespace {

thread_local bool counting_allocations = false;
thread_local std::size_t allocations = 0;

void* allocate(std::size_t size) noexcept {
  if (counting_allocations) {
    ++allocations;
  }
  return std::malloc(size == 0 ? 1 : size);
}

void* allocate_or_throw(std::size_t size) {
  void* memory = allocate(size);
  if (memory == nullptr) {
    throw std::bad_alloc();
  }
  return memory;
}

} // namespace

void* operator new(std::size_t size) {
  return allocate_or_throw(size);
}

void* operator new[](std::size_t size) {
  return allocate_or_throw(size);
}

void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}

void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}

void operator delete(void* memory) noexcept {
  std::free(memory);
}

void operator delete[](void* memory) noexcept {
  std::free(memory);
}

void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}

void operator delete[](void* memory, std::size_t) noexcept {
  std::free(memory);
}

void operator delete(void* memory, const std::nothrow_t&) noexcept {
  std::free(memory);
}

void operator delete[](void* memory, const std::nothrow_t&) noexcept {
  std::free(memory);
}

namespace vigil {
namespace {

/// Counts this thread's allocations from construction until `count()`.
class allocation_counter {
public:
  allocation_counter() {
    allocations = 0;
    counting_allocations = true;
  }

  allocation_counter(const allocation_counter&) = delete;
  allocation_counter& operator=(const allocation_counter&) = delete;

  ~allocation_counter() { counting_allocations = false; }

  std::size_t count() {
    counting_allocations = false;
    return allocations;
  }
};

const term self = term(pid{0, 74, 0});
const term long_text = term(std::string(40, 'x')); // lives on the heap

pattern parsed(std::string_view text) {
  auto p = pattern::parse(text);
  EXPECT_TRUE(p.has_value()) << text << ": " << (p ? "" : p.error().to_string());
  return p ? std::move(p).value() : pattern::any();
}

std::string parse_failure(std::string_view text) {
  auto p = pattern::parse(text);
  return p ? "parsed: " + p->to_string() : p.error().to_string();
}

TEST(Pattern, AllocationCounterSeesAllocations) {
  allocation_counter counter;
  static int* volatile boxed = nullptr;
  boxed = new int(1);
  delete boxed;
  EXPECT_EQ(counter.count(), 1U);
}

TEST(Pattern, LiteralMatchesOnlyEqualTerms) {
  pattern uut = pattern::literal(make_tuple(atoms::ok, 1));
  EXPECT_TRUE(uut.matches(make_tuple(atoms::ok, 1)));
  EXPECT_FALSE(uut.matches(make_tuple(atoms::ok, 2)));
  EXPECT_FALSE(uut.matches(make_tuple(atoms::ok, 1.0)));
  EXPECT_FALSE(uut.matches(term(atoms::ok)));
}

TEST(Pattern, WildcardMatchesAnythingAndBindsNothing) {
  pattern uut = pattern::tuple({pattern::any(), pattern::bind("_ignored"), atoms::ok});
  bindings out;
  EXPECT_TRUE(uut.match(make_tuple(self, long_text, atoms::ok), out));
  EXPECT_EQ(out.size(), 0U);
  EXPECT_TRUE(uut.names().empty());
  EXPECT_FALSE(uut.matches(make_tuple(self, long_text, atoms::error)));
}

TEST(Pattern, BindCapturesValuesBySlotInOrderOfAppearance) {
  pattern uut = pattern::tuple({pattern::bind("from"), pattern::list({pattern::bind("body")})});
  bindings out;
  ASSERT_TRUE(uut.match(make_tuple(self, term::list({long_text})), out));
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(uut.slot("from"), 0);
  EXPECT_EQ(uut.slot("body"), 1);
  EXPECT_EQ(uut.slot("nothing"), -1);
  EXPECT_EQ(out[0], self);
  EXPECT_EQ(out[1], long_text);
}

TEST(Pattern, TypedBindAcceptsOnlyItsKind) {
  struct example {
    type_test test;
    term accepted;
    term rejected;
  };

  const example examples[] = {
      {type_test::atom, atoms::ok, 1},
      {type_test::integer, 1, 1.0},
      {type_test::floating, 1.0, 1},
      {type_test::number, 1, atoms::ok},
      {type_test::number, 2.5, "2.5"},
      {type_test::string, "s", atoms::ok},
      {type_test::pid, self, reference{0, 1, 2, 3}},
      {type_test::reference, reference{0, 1, 2, 3}, self},
      {type_test::tuple, make_tuple(1), term::list({1})},
      {type_test::list, term::list({}), term::tuple({})},
      {type_test::map, term::map({}), term::list({})},
  };
  for (const auto& e : examples) {
    EXPECT_TRUE(pattern::bind("x", e.test).matches(e.accepted)) << e.accepted;
    EXPECT_FALSE(pattern::bind("x", e.test).matches(e.rejected)) << e.rejected;
    EXPECT_FALSE(pattern::bind("_x", e.test).matches(e.rejected)) << e.rejected;
  }
}

TEST(Pattern, RepeatedBindRequiresEqualTerms) {
  pattern uut = pattern::tuple({pattern::bind("x"), pattern::list({pattern::bind("x")})});
  bindings out;
  EXPECT_TRUE(uut.match(make_tuple(long_text, term::list({long_text})), out));
  EXPECT_EQ(out.size(), 1U);
  EXPECT_FALSE(uut.matches(make_tuple(1, term::list({2}))));
  EXPECT_FALSE(uut.matches(make_tuple(1, term::list({1.0}))));
}

TEST(Pattern, UnderscoreNamesNeedNotBeEqual) {
  pattern uut = pattern::tuple({pattern::bind("_x"), pattern::bind("_x")});
  EXPECT_TRUE(uut.matches(make_tuple(1, 2)));
}

TEST(Pattern, SequencesMatchExactKindAndLength) {
  pattern pair = pattern::tuple({pattern::any(), pattern::any()});
  EXPECT_TRUE(pair.matches(make_tuple(1, 2)));
  EXPECT_FALSE(pair.matches(make_tuple(1)));
  EXPECT_FALSE(pair.matches(make_tuple(1, 2, 3)));
  EXPECT_FALSE(pair.matches(term::list({1, 2})));
  pattern list = pattern::list({pattern::bind("h"), pattern::any()});
  EXPECT_TRUE(list.matches(term::list({1, 2})));
  EXPECT_FALSE(list.matches(term::list({1, 2, 3})));
  EXPECT_FALSE(list.matches(make_tuple(1, 2)));
}

TEST(Pattern, MapNeedsListedKeysAndAllowsOthers) {
  pattern uut = pattern::map({{"k", pattern::bind("v")}, {atoms::ok, term(1)}});
  term exact = term::map({{"k", long_text}, {atoms::ok, 1}});
  term extra = term::map({{"k", 2}, {atoms::ok, 1}, {"more", 3}});
  bindings out;
  ASSERT_TRUE(uut.match(exact, out));
  EXPECT_EQ(out[0], long_text);
  ASSERT_TRUE(uut.match(extra, out));
  EXPECT_EQ(out[0], term(2));
  EXPECT_FALSE(uut.matches(term::map({{"k", 2}})));
  EXPECT_FALSE(uut.matches(term::map({{"k", 2}, {atoms::ok, 2}})));
  EXPECT_FALSE(uut.matches(term::list({})));
  EXPECT_TRUE(pattern::map({}).matches(extra));
}

TEST(Pattern, MatchDoesNotAllocate) {
  pattern uut = parsed("{from :: pid, [x, %{\"k\" => x}], _}");
  term message = make_tuple(self, term::list({long_text, term::map({{"k", long_text}})}),
                            term::list({long_text, 1, 2}));
  bindings out;
  allocation_counter counter;
  bool hit = uut.match(message, out);
  bool hit_without_bindings = uut.matches(message);
  EXPECT_EQ(counter.count(), 0U);
  EXPECT_TRUE(hit);
  EXPECT_TRUE(hit_without_bindings);
  EXPECT_EQ(out[1], long_text);
}

TEST(Pattern, FailedMatchDoesNotAllocate) {
  pattern uut = parsed("{from :: pid, [x, %{\"k\" => x}], :ok}");
  term late_miss =
      make_tuple(self, term::list({long_text, term::map({{"k", long_text}})}), atoms::error);
  term repeat_miss = make_tuple(self, term::list({long_text, term::map({{"k", 1}})}), atoms::ok);
  bindings out;
  allocation_counter counter;
  bool late = uut.match(late_miss, out);
  bool repeat = uut.match(repeat_miss, out);
  bool kind = uut.match(term(1), out);
  EXPECT_EQ(counter.count(), 0U);
  EXPECT_FALSE(late);
  EXPECT_FALSE(repeat);
  EXPECT_FALSE(kind);
}

TEST(PatternDeathTest, BuildingMoreThanSixteenBindsAborts) {
  auto build = [] {
    pattern many = pattern::tuple(
        {pattern::bind("a0"), pattern::bind("a1"), pattern::bind("a2"), pattern::bind("a3"),
         pattern::bind("a4"), pattern::bind("a5"), pattern::bind("a6"), pattern::bind("a7"),
         pattern::bind("a8"), pattern::bind("a9"), pattern::bind("b0"), pattern::bind("b1"),
         pattern::bind("b2"), pattern::bind("b3"), pattern::bind("b4"), pattern::bind("b5")});
    return pattern::tuple({many, pattern::bind("b6")});
  };
  EXPECT_DEATH(build(), "capacity");
}

TEST(PatternParse, ReadsBindsWildcardsAndLiterals) {
  pattern uut = parsed("{from, _, _rest, :ping, 42, \"s\", #PID<0.74.0>}");
  bindings out;
  ASSERT_TRUE(uut.match(make_tuple(self, 1, 2, atoms::ping, 42, "s", self), out));
  EXPECT_EQ(uut.names(), std::vector<std::string>{"from"});
  EXPECT_EQ(out[0], self);
  EXPECT_FALSE(uut.matches(make_tuple(self, 1, 2, atoms::ping, 43, "s", self)));
}

TEST(PatternParse, ReadsTypedBinds) {
  pattern uut = parsed("{from :: pid, n::integer, _ :: atom}");
  EXPECT_TRUE(uut.matches(make_tuple(self, 1, atoms::ok)));
  EXPECT_FALSE(uut.matches(make_tuple(self, 1.0, atoms::ok)));
  EXPECT_FALSE(uut.matches(make_tuple(1, 1, atoms::ok)));
  EXPECT_FALSE(uut.matches(make_tuple(self, 1, 1)));
}

TEST(PatternParse, ReadsTrueFalseAndNilAsAtoms) {
  pattern uut = parsed("[true, false, nil]");
  EXPECT_TRUE(uut.names().empty());
  EXPECT_TRUE(uut.matches(term::list({true, false, atoms::nil})));
}

TEST(PatternParse, ReadsMapsWithArrowAndKeywordKeys) {
  pattern uut = parsed("%{\"k\" => v, ok: 1, {:a, [1]} => w, %{x: 1} => _}");
  term subject = term::map({{"k", 1},
                            {atoms::ok, 1},
                            {make_tuple(atom("a"), term::list({1})), 2},
                            {term::map({{atom("x"), 1}}), 3},
                            {"extra", 4}});
  bindings out;
  ASSERT_TRUE(uut.match(subject, out));
  EXPECT_EQ(out[uut.slot("w")], term(2));
  EXPECT_TRUE(parsed("%{}").matches(subject));
}

TEST(PatternParse, ReadsKeywordLists) {
  pattern uut = parsed("[name: n, \"odd key\": 2]");
  bindings out;
  ASSERT_TRUE(uut.match(
      term::list({make_tuple(atom("name"), "vigil"), make_tuple(atom("odd key"), 2)}), out));
  EXPECT_EQ(out[0], term("vigil"));
}

TEST(PatternParse, ReadsNestedPatternsAcrossLines) {
  pattern uut = parsed("\n{:reply,\n  {ref :: reference, [x, x]}\n}\n");
  EXPECT_TRUE(uut.matches(
      make_tuple(atom("reply"), make_tuple(reference{0, 1, 2, 3}, term::list({1, 1})))));
  EXPECT_FALSE(uut.matches(
      make_tuple(atom("reply"), make_tuple(reference{0, 1, 2, 3}, term::list({1, 2})))));
}

TEST(PatternParse, ReportsErrorPositions) {
  EXPECT_EQ(parse_failure(""), "1:1: expected a pattern");
  EXPECT_EQ(parse_failure("{a, b"), "1:6: expected ',' or '}'");
  EXPECT_EQ(parse_failure("[a, b}"), "1:6: expected ',' or ']'");
  EXPECT_EQ(parse_failure("{a,\n  b :: pidd}"), "2:8: expected a type (atom, integer, float, "
                                                "number, string, pid, reference, tuple, list "
                                                "or map)");
  EXPECT_EQ(parse_failure("%{k => 1}"), "1:3: map keys must be literals");
  EXPECT_EQ(parse_failure("%{:k 1}"), "1:6: expected '=>'");
  EXPECT_EQ(parse_failure("{a} b"), "1:5: expected end of input");
  EXPECT_EQ(parse_failure("{a, }"), "1:5: expected a pattern");
  EXPECT_EQ(parse_failure("[h | t]"), "1:4: expected ',' or ']'");
}

TEST(PatternParse, ReportsLiteralErrorsAtTheirPlaceInThePattern) {
  auto whole = pattern::parse("{a,\n  99999999999999999999}");
  auto alone = parse_term("99999999999999999999");
  ASSERT_FALSE(whole.has_value());
  ASSERT_FALSE(alone.has_value());
  EXPECT_EQ(whole.error().line, 2U);
  EXPECT_EQ(whole.error().column, alone.error().column + 2);
  EXPECT_EQ(whole.error().message, alone.error().message);
}

TEST(PatternParse, RejectsMoreThanSixteenBinds) {
  std::string text = "{";
  for (int i = 0; i < 16; ++i) {
    text += "v" + std::to_string(i) + ", v0, _, ";
  }
  EXPECT_TRUE(pattern::parse(text + "v0}").has_value());
  EXPECT_EQ(parse_failure(text + "w}"),
            "1:" + std::to_string(text.size() + 1) + ": more than 16 binds in one pattern");
}

TEST(PatternParse, RejectsNestingDeeperThanSixtyFour) {
  EXPECT_TRUE(pattern::parse(std::string(64, '[') + "x" + std::string(64, ']')).has_value());
  EXPECT_EQ(parse_failure(std::string(65, '[') + "x" + std::string(65, ']')),
            "1:65: nesting deeper than 64");
}

TEST(PatternText, PrintsWhatParseReads) {
  const char* texts[] = {
      "_",
      "x",
      "{from :: pid, _ :: atom, :ok}",
      "[x, x, 1.5, \"s\"]",
      "%{\"k\" => v, ok: {a, b}}",
      "{:reply, #Reference<0.1.2.3>, %{}}",
  };
  for (const char* text : texts) {
    EXPECT_EQ(parsed(text).to_string(), text);
  }
}

TEST(PatternText, PrintsBuiltPatterns) {
  pattern uut = pattern::tuple({pattern::bind("from", type_test::pid), atoms::ping,
                                pattern::map({{atom("k"), pattern::bind("_")}})});
  EXPECT_EQ(uut.to_string(), "{from :: pid, :ping, %{k: _}}");
}

TEST(PatternText, RoundTripsRandomLiterals) {
  for (std::uint64_t seed = 1; seed <= 2000; ++seed) {
    term t = test::term_generator(seed).next();
    std::string text = pattern::literal(t).to_string();
    auto back = pattern::parse(text);
    ASSERT_TRUE(back.has_value()) << "seed " << seed << ": " << text << ": "
                                  << back.error().to_string();
    // A literal map prints as a map pattern, which also accepts extra keys, so the reparsed
    // pattern must match `t` but need not be equal to the literal.
    EXPECT_TRUE(back->matches(t)) << "seed " << seed << ": " << text;
  }
}

/// The text of a pattern shaped like `t` whose leaves are, in turn, binds (while slots
/// remain), wildcards and literals; `bound` receives the values the binds must take.
std::string shape_of(const term& t, std::vector<term>& bound, std::size_t& leaf) {
  std::string out;
  if (t.is_tuple() || t.is_list()) {
    out += t.is_tuple() ? "{" : "[";
    for (std::size_t i = 0; i < t.size(); ++i) {
      out += (i == 0 ? "" : ", ") + shape_of(t[i], bound, leaf);
    }
    return out + (t.is_tuple() ? "}" : "]");
  }
  if (t.is_map()) {
    out += "%{";
    for (std::size_t i = 0; i < t.size(); ++i) {
      out += (i == 0 ? "" : ", ") + to_string(t.map_key(i)) + " => ";
      out += shape_of(t.map_value(i), bound, leaf);
    }
    return out + "}";
  }
  switch (leaf++ % 3) {
  case 0:
    if (bound.size() < bindings::capacity) {
      bound.push_back(t);
      return "v" + std::to_string(bound.size() - 1);
    }
    return "_";
  case 1: return "_";
  default: return to_string(t);
  }
}

TEST(PatternParse, ShapedPatternsMatchAndBindTheirLeaves) {
  for (std::uint64_t seed = 1; seed <= 2000; ++seed) {
    term t = test::term_generator(seed).next();
    std::vector<term> expected;
    std::size_t leaf = seed;
    std::string text = shape_of(t, expected, leaf);
    auto uut = pattern::parse(text);
    ASSERT_TRUE(uut.has_value()) << "seed " << seed << ": " << text << ": "
                                 << uut.error().to_string();
    bindings out;
    ASSERT_TRUE(uut->match(t, out)) << "seed " << seed << ": " << text;
    ASSERT_EQ(out.size(), expected.size()) << "seed " << seed;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(out[i], expected[i]) << "seed " << seed << ": " << text;
    }
    EXPECT_EQ(pattern::parse(uut->to_string())->to_string(), uut->to_string());
  }
}

// A mailbox skips, untested, every message whose head differs from a receive's clauses'
// heads (docs/runtime.md): a head is only reported when every match has it.
TEST(PatternHead, OnlyALiteralFirstElementOfATupleIsAFixedHead) {
  auto head = [](const char* text) -> std::string {
    auto p = pattern::parse(text);
    EXPECT_TRUE(p.has_value()) << text;
    std::size_t arity = 0;
    const term* first = p->tuple_head(arity);
    return first == nullptr ? "none" : to_string(*first) + "/" + std::to_string(arity);
  };
  EXPECT_EQ(head("{:reply, x}"), ":reply/2");
  EXPECT_EQ(head("{:a, 1, 2}"), ":a/3"); // ground: one literal tuple
  EXPECT_EQ(head("{7, _}"), "7/2");
  EXPECT_EQ(head("{x, :reply}"), "none");
  EXPECT_EQ(head("{x :: atom, y}"), "none");
  EXPECT_EQ(head("{_, y}"), "none");
  EXPECT_EQ(head("{}"), "none");
  EXPECT_EQ(head("[:a, x]"), "none");
  EXPECT_EQ(head("%{:a => x}"), "none");
  EXPECT_EQ(head(":a"), "none");
  EXPECT_EQ(head("x"), "none");
}

} // namespace
} // namespace vigil
