// SPDX-License-Identifier: Apache-2.0
#include "vigil/term/text.hpp"

#include "term_generator.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace vigil {
namespace {

using namespace vigil::literals;
using namespace std::string_view_literals;

// The parsed term, or a failure that names the error.
term parse_ok(std::string_view text) {
  auto r = parse_term(text);
  EXPECT_TRUE(r.has_value()) << text << " -> " << (r ? "" : r.error().to_string());
  return r ? *r : term("<parse failed>"_a);
}

// "line:col: message" for text that must not parse.
std::string parse_fail(std::string_view text, parse_limits limits = {}) {
  auto r = parse_term(text, limits);
  EXPECT_FALSE(r.has_value()) << text << " parsed as " << (r ? to_string(*r) : "");
  return r ? std::string() : r.error().to_string();
}

TEST(TermParse, ReadsAtoms) {
  EXPECT_EQ(parse_ok(":ok"), term(atoms::ok));
  EXPECT_EQ(parse_ok(":EXIT"), term(atoms::exit));
  EXPECT_EQ(parse_ok(":ok?"), term("ok?"_a));
  EXPECT_EQ(parse_ok(R"(:"with space")"), term("with space"_a));
  EXPECT_EQ(parse_ok("true"), term(true));
  EXPECT_EQ(parse_ok("false"), term(false));
  EXPECT_EQ(parse_ok("nil"), term());
}

TEST(TermParse, ReadsErlangAtoms) {
  EXPECT_EQ(parse_ok("ok"), term(atoms::ok));
  EXPECT_EQ(parse_ok("EXIT"), term(atoms::exit));
  EXPECT_EQ(parse_ok("'with space'"), term("with space"_a));
  EXPECT_EQ(parse_ok(R"('it\'s')"), term("it's"_a));
  EXPECT_EQ(parse_ok("{ok, pong}"), make_tuple(atoms::ok, atoms::pong));
}

TEST(TermParse, ReadsIntegers) {
  EXPECT_EQ(parse_ok("42"), term(42));
  EXPECT_EQ(parse_ok("-7"), term(-7));
  EXPECT_EQ(parse_ok("1_000_000"), term(1000000));
  EXPECT_EQ(parse_ok("0x1F"), term(31));
  EXPECT_EQ(parse_ok("-0xff"), term(-255));
  EXPECT_EQ(parse_ok("0o17"), term(15));
  EXPECT_EQ(parse_ok("0b101"), term(5));
  EXPECT_EQ(parse_ok("9223372036854775807"), term(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(parse_ok("-9223372036854775808"), term(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(parse_ok("-0x8000000000000000"), term(std::numeric_limits<std::int64_t>::min()));
}

TEST(TermParse, ReadsFloats) {
  EXPECT_EQ(parse_ok("1.0"), term(1.0));
  EXPECT_EQ(parse_ok("-0.0"), term(-0.0));
  EXPECT_EQ(parse_ok("1.5e300"), term(1.5e300));
  EXPECT_EQ(parse_ok("1.0e-5"), term(1e-5));
  EXPECT_EQ(parse_ok("2E+3"), term(2000.0));
  EXPECT_EQ(parse_ok("1_000.5"), term(1000.5));
  EXPECT_EQ(parse_ok("5.0e-324"), term(5e-324));
}

TEST(TermParse, ReadsNonFiniteFloatsFromReservedWords) {
  EXPECT_EQ(parse_ok("Infinity"), term(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(parse_ok("-Infinity"), term(-std::numeric_limits<double>::infinity()));
  term nan = parse_ok("NaN");
  ASSERT_TRUE(nan.is_float());
  EXPECT_TRUE(std::isnan(nan.as_float()));
  EXPECT_EQ(parse_ok(":NaN"), term("NaN"_a));
}

TEST(TermParse, ReadsStringsWithEscapes) {
  EXPECT_EQ(parse_ok(R"("text")"), term("text"));
  EXPECT_EQ(parse_ok(R"("")"), term(""));
  EXPECT_EQ(parse_ok(R"("a\"b\\c\n\t\r\e\0")"), term("a\"b\\c\n\t\r\x1B\0"sv));
  EXPECT_EQ(parse_ok(R"("\x41\xFF\x1")"), term("A\xFF\x01"));
  EXPECT_EQ(parse_ok(R"("\u{1F600} \u00e9")"), term("\xF0\x9F\x98\x80 \xC3\xA9"));
  EXPECT_EQ(parse_ok(R"("\#{x}")"), term("#{x}"));
  EXPECT_EQ(parse_ok("\"two\nlines\""), term("two\nlines"));
  EXPECT_EQ(parse_ok("\"héllo\""), term("héllo"));
}

TEST(TermParse, ReadsElixirsOtherEscapes) {
  EXPECT_EQ(parse_ok(R"("\a\b\f\v\s\d")"), term("\a\b\f\v \x7F"));
  EXPECT_EQ(parse_ok("\"one \\\ntwo\""), term("one two"));
}

TEST(TermParse, ReadsPidsAndReferences) {
  EXPECT_EQ(parse_ok("#PID<0.74.0>"), term(pid{0, 74, 0}));
  EXPECT_EQ(parse_ok("<0.74.0>"), term(pid{0, 74, 0}));
  EXPECT_EQ(parse_ok("#Reference<0.1.2.3>"), term(reference{0, 1, 2, 3}));
  EXPECT_EQ(parse_ok("#Ref<16777215.1.2.3>"), term(reference{reference::max_node, 1, 2, 3}));
}

TEST(TermParse, ReadsContainers) {
  EXPECT_EQ(parse_ok("{}"), term::tuple({}));
  EXPECT_EQ(parse_ok("[]"), term::list({}));
  EXPECT_EQ(parse_ok("%{}"), term::map({}));
  EXPECT_EQ(parse_ok("{:ok, :pong}"), make_tuple(atoms::ok, atoms::pong));
  EXPECT_EQ(parse_ok("[1,2 , 3]"), term::list({1, 2, 3}));
  EXPECT_EQ(parse_ok("{ [ ] , { } }"), make_tuple(term::list({}), term::tuple({})));
}

TEST(TermParse, ReadsMapKeysInEveryForm) {
  term expected = term::map({{"key"_a, 1}, {"k", 2}, {"quoted key"_a, 3}, {"a"_a, 4}});
  EXPECT_EQ(parse_ok(R"(%{key: 1, "k" => 2, "quoted key": 3, a => 4})"), expected);
  EXPECT_EQ(parse_ok(R"(%{:a => 4, "k" => 2, key: 1, :"quoted key" => 3})"), expected);
  EXPECT_EQ(parse_ok("%{true: nil}"), term::map({{true, term()}}));
}

TEST(TermParse, ReadsKeywordListsAsListsOfPairs) {
  EXPECT_EQ(parse_ok("[a: 1, b: :x]"),
            term::list({make_tuple("a"_a, 1), make_tuple("b"_a, "x"_a)}));
}

TEST(TermParse, AllowsSurroundingWhitespace) {
  EXPECT_EQ(parse_ok(" \t\r\n{:ok,\n :pong}\n "), make_tuple(atoms::ok, atoms::pong));
}

TEST(TermParse, ReportsEmptyInput) {
  EXPECT_EQ(parse_fail(""), "1:1: unexpected end of input, expected a term");
  EXPECT_EQ(parse_fail("  \n "), "2:2: unexpected end of input, expected a term");
}

TEST(TermParse, ReportsWhereASeparatorWasMissing) {
  EXPECT_EQ(parse_fail("{:ok :pong}"), "1:6: expected '}' or ','");
  EXPECT_EQ(parse_fail("{:ok, :pong"), "1:12: unexpected end of input, expected '}' or ','");
  EXPECT_EQ(parse_fail("[1 2]"), "1:4: expected ']' or ','");
  EXPECT_EQ(parse_fail("[1,]"), "1:4: expected a term");
  EXPECT_EQ(parse_fail("%{a 1}"), "1:5: expected '=>'");
  EXPECT_EQ(parse_fail("%[1]"), "1:2: expected '{'");
  EXPECT_EQ(parse_fail("{} x"), "1:4: expected end of input");
  EXPECT_EQ(parse_fail("{ok: 1}"), "1:4: expected '}' or ','");
}

TEST(TermParse, CountsLinesAndColumnsInBytes) {
  EXPECT_EQ(parse_fail("{\n  :ok,\n  @\n}"), "3:3: expected a term");
  EXPECT_EQ(parse_fail("\"é\" x"), "1:6: expected end of input");
}

TEST(TermParse, RejectsIntegersOutsideSixtyFourBits) {
  EXPECT_EQ(parse_fail("9223372036854775808"), "1:1: integer out of range");
  EXPECT_EQ(parse_fail("-9223372036854775809"), "1:1: integer out of range");
  EXPECT_EQ(parse_fail("[1, 99999999999999999999999]"), "1:5: integer out of range");
  EXPECT_EQ(parse_fail("0x1_0000_0000_0000_0000"), "1:1: integer out of range");
}

TEST(TermParse, RejectsBadNumbers) {
  EXPECT_EQ(parse_fail("1e999"), "1:1: float out of range");
  EXPECT_EQ(parse_fail("-x"), "1:2: expected a digit");
  EXPECT_EQ(parse_fail("0x"), "1:3: unexpected end of input, expected a digit");
  EXPECT_EQ(parse_fail("1."), "1:2: expected end of input");
}

TEST(TermParse, RejectsBadStrings) {
  EXPECT_EQ(parse_fail(R"("abc)"), "1:5: unexpected end of input, expected '\"'");
  EXPECT_EQ(parse_fail(R"(["a\qb"])"), "1:4: invalid escape sequence");
  EXPECT_EQ(parse_fail(R"("\u{110000}")"), "1:2: invalid code point");
  EXPECT_EQ(parse_fail(R"("\uD800")"), "1:2: invalid code point");
  EXPECT_EQ(parse_fail(R"("\xZ")"), "1:4: expected a hex digit");
  EXPECT_EQ(parse_fail(R"("\u12")"), "1:6: expected a hex digit");
}

TEST(TermParse, RejectsBadAtoms) {
  EXPECT_EQ(parse_fail(": ok"), "1:2: expected an atom name");
  EXPECT_EQ(parse_fail("'open"), "1:6: unexpected end of input, expected \"'\"");
  std::string long_name = ":\"" + std::string(atom::max_length + 1, 'a') + "\"";
  EXPECT_EQ(parse_fail(long_name), "1:1: atom longer than 255 bytes");
  EXPECT_EQ(parse_fail("[" + std::string(atom::max_length + 1, 'b') + "]"),
            "1:2: atom longer than 255 bytes");
}

TEST(TermParse, RejectsBadPidsAndReferences) {
  EXPECT_EQ(parse_fail("#PID<0.1>"), "1:9: expected '.'");
  EXPECT_EQ(parse_fail("<0.1.4294967296>"), "1:6: number out of range");
  EXPECT_EQ(parse_fail("#Reference<16777216.0.0.0>"), "1:12: reference node out of range");
  EXPECT_EQ(parse_fail("#Foo<1>"), "1:1: expected '#PID<' or '#Reference<'");
  EXPECT_EQ(parse_fail("<0.1.2"), "1:7: unexpected end of input, expected '>'");
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(TermParse, AcceptsNestingUpToTheLimit) {
  EXPECT_TRUE(parse_term(nested(64)).has_value());
  EXPECT_EQ(parse_fail(nested(65)), "1:65: nesting deeper than 64");
  EXPECT_EQ(parse_fail("{[%{a: 1}]}", parse_limits{2}), "1:3: nesting deeper than 2");
}

// `[a: x]` is `[{:a, x}]`, two levels, and prints that way: counting it as one let text
// within the limit print to text beyond it, which the same limit then refused.
TEST(TermParse, AKeywordItemCountsAsTheTupleItStandsFor) {
  EXPECT_EQ(parse_fail("[a: 1]", parse_limits{1}), "1:2: nesting deeper than 1");
  EXPECT_TRUE(parse_term("[a: 1]", parse_limits{2}).has_value());
  EXPECT_TRUE(parse_term("[a: [b: 1]]", parse_limits{4}).has_value());
  EXPECT_EQ(parse_fail("[a: [b: 1]]", parse_limits{3}), "1:6: nesting deeper than 3");

  std::string deep = "1";
  for (int i = 0; i < 33; ++i) {
    deep = "[a: " + deep + "]";
  }
  EXPECT_EQ(parse_fail(deep), "1:129: nesting deeper than 64");
  deep = "1";
  for (int i = 0; i < 32; ++i) {
    deep = "[a: " + deep + "]";
  }
  auto parsed = parse_term(deep);
  ASSERT_TRUE(parsed.has_value());
  auto reparsed = parse_term(to_string(*parsed));
  ASSERT_TRUE(reparsed.has_value()) << reparsed.error().to_string();
  EXPECT_EQ(*reparsed, *parsed);
}

TEST(TermParse, SurvivesHostileNesting) {
  EXPECT_EQ(parse_fail(std::string(1000000, '{')), "1:65: nesting deeper than 64");
  // An unreasonable limit is capped rather than trusted with the stack.
  auto r = parse_term(std::string(1000000, '['), parse_limits{4000000000U});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("nesting deeper than"), std::string::npos);
}

TEST(TermParse, ParseErrorFormatsLineColumnAndMessage) {
  parse_error e{3, 14, "expected '>'"};
  EXPECT_EQ(e.to_string(), "3:14: expected '>'");
}

TEST(TermParse, RoundTripsNonFiniteAndSignedZeroFloats) {
  for (double d :
       {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
        std::numeric_limits<double>::quiet_NaN(), -0.0, 0.0, std::numeric_limits<double>::max(),
        std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::lowest(),
        0.1 + 0.2}) {
    term t(d);
    auto r = parse_term(to_string(t));
    ASSERT_TRUE(r.has_value()) << to_string(t);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(r->as_float()), std::bit_cast<std::uint64_t>(d))
        << to_string(t);
  }
}

TEST(TermParse, ReadsBackEveryPrintedTerm) {
  int checked = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    test::term_generator gen(seed);
    for (int i = 0; i < 100; ++i, ++checked) {
      term t = gen.next();
      std::string text = to_string(t);
      auto r = parse_term(text);
      ASSERT_TRUE(r.has_value()) << "seed " << seed << ": " << text << "\n"
                                 << r.error().to_string();
      ASSERT_EQ(*r, t) << "seed " << seed << ": " << text << "\nread back as " << to_string(*r);
    }
  }
  EXPECT_EQ(checked, 4000);
}

} // namespace
} // namespace vigil
