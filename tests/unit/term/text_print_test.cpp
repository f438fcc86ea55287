// SPDX-License-Identifier: Apache-2.0
#include "vigil/term/text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

namespace vigil {
namespace {

using namespace vigil::literals;
using namespace std::string_view_literals;

TEST(TermText, PrintsIntegers) {
  EXPECT_EQ(to_string(term(42)), "42");
  EXPECT_EQ(to_string(term(-7)), "-7");
  EXPECT_EQ(to_string(term(0)), "0");
  EXPECT_EQ(to_string(term(std::numeric_limits<std::int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(to_string(term(std::numeric_limits<std::int64_t>::max())), "9223372036854775807");
}

TEST(TermText, PrintsFloatsWithADotOrAnExponent) {
  EXPECT_EQ(to_string(term(1.0)), "1.0");
  EXPECT_EQ(to_string(term(1.5)), "1.5");
  EXPECT_EQ(to_string(term(0.1)), "0.1");
  EXPECT_EQ(to_string(term(-0.0)), "-0.0");
  EXPECT_EQ(to_string(term(100.0)), "100.0");
  EXPECT_EQ(to_string(term(1.5e300)), "1.5e300");
  EXPECT_EQ(to_string(term(1e300)), "1.0e300");
  EXPECT_EQ(to_string(term(1e-5)), "1.0e-5");
  EXPECT_EQ(to_string(term(5e-324)), "5.0e-324");
  EXPECT_EQ(to_string(term(-2.5e-10)), "-2.5e-10");
}

TEST(TermText, PrintsNonFiniteFloatsAsReservedWords) {
  EXPECT_EQ(to_string(term(std::numeric_limits<double>::quiet_NaN())), "NaN");
  EXPECT_EQ(to_string(term(std::numeric_limits<double>::infinity())), "Infinity");
  EXPECT_EQ(to_string(term(-std::numeric_limits<double>::infinity())), "-Infinity");
}

TEST(TermText, PrintsAtomsAsIexDoes) {
  EXPECT_EQ(to_string(term(atoms::ok)), ":ok");
  EXPECT_EQ(to_string(term(atoms::exit)), ":EXIT");
  EXPECT_EQ(to_string(term("ok?"_a)), ":ok?");
  EXPECT_EQ(to_string(term("node@host"_a)), ":node@host");
  EXPECT_EQ(to_string(term("_"_a)), ":_");
  EXPECT_EQ(to_string(term("NaN"_a)), ":NaN");
}

TEST(TermText, PrintsTrueFalseAndNilBare) {
  EXPECT_EQ(to_string(term(true)), "true");
  EXPECT_EQ(to_string(term(false)), "false");
  EXPECT_EQ(to_string(term()), "nil");
}

TEST(TermText, QuotesAtomsOutsideTheIdentifierGrammar) {
  EXPECT_EQ(to_string(term("with space"_a)), R"(:"with space")");
  EXPECT_EQ(to_string(term(""_a)), R"(:"")");
  EXPECT_EQ(to_string(term("1abc"_a)), R"(:"1abc")");
  EXPECT_EQ(to_string(term("a?b"_a)), R"(:"a?b")");
  EXPECT_EQ(to_string(term("Elixir.Foo"_a)), R"(:"Elixir.Foo")");
  EXPECT_EQ(to_string(term("say \"hi\"\n"_a)), R"(:"say \"hi\"\n")");
}

TEST(TermText, PrintsStringsWithEscapes) {
  EXPECT_EQ(to_string(term("text")), R"("text")");
  EXPECT_EQ(to_string(term("")), R"("")");
  EXPECT_EQ(to_string(term("a\"b\\c")), R"("a\"b\\c")");
  EXPECT_EQ(to_string(term("\n\t\r\x1B")), R"("\n\t\r\e")");
  EXPECT_EQ(to_string(term("nul\0byte"sv)), R"("nul\0byte")");
  EXPECT_EQ(to_string(term("\x01\x1F\x7F")), R"("\x01\x1F\x7F")");
}

TEST(TermText, EscapesInterpolationInStrings) {
  EXPECT_EQ(to_string(term("#{x}")), R"("\#{x}")");
  EXPECT_EQ(to_string(term("# and #")), R"("# and #")");
}

TEST(TermText, PrintsValidUtf8AsIs) {
  EXPECT_EQ(to_string(term("héllo")), "\"héllo\"");
  EXPECT_EQ(to_string(term("日本")), "\"日本\"");
  EXPECT_EQ(to_string(term("\xF0\x9F\x98\x80")), "\"\xF0\x9F\x98\x80\"");
}

TEST(TermText, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(to_string(term("\xFF")), R"("\xFF")");
  EXPECT_EQ(to_string(term("a\xC3")), R"("a\xC3")");                       // truncated
  EXPECT_EQ(to_string(term("\xC0\x80")), R"("\xC0\x80")");                 // overlong
  EXPECT_EQ(to_string(term("\xED\xA0\x80")), R"("\xED\xA0\x80")");         // surrogate
  EXPECT_EQ(to_string(term("\xF4\x90\x80\x80")), R"("\xF4\x90\x80\x80")"); // past U+10FFFF
}

TEST(TermText, PrintsPidsAsIexDoes) {
  EXPECT_EQ(to_string(term(pid{0, 74, 0})), "#PID<0.74.0>");
  EXPECT_EQ(to_string(term(pid{4294967295U, 1, 2})), "#PID<4294967295.1.2>");
}

TEST(TermText, PrintsReferencesAsIexDoes) {
  EXPECT_EQ(to_string(term(reference{0, 1, 2, 3})), "#Reference<0.1.2.3>");
  EXPECT_EQ(to_string(term(reference{reference::max_node, 4294967295U, 0, 9})),
            "#Reference<16777215.4294967295.0.9>");
}

TEST(TermText, PrintsTuples) {
  EXPECT_EQ(to_string(term::tuple({})), "{}");
  EXPECT_EQ(to_string(make_tuple(atoms::ok, atoms::pong)), "{:ok, :pong}");
  EXPECT_EQ(to_string(make_tuple(atoms::exit, pid{0, 74, 0}, atoms::normal)),
            "{:EXIT, #PID<0.74.0>, :normal}");
}

TEST(TermText, PrintsLists) {
  EXPECT_EQ(to_string(term::list({})), "[]");
  EXPECT_EQ(to_string(term::list({1, 2, 3})), "[1, 2, 3]");
  EXPECT_EQ(to_string(term::list({term::list({}), term::tuple({1.5})})), "[[], {1.5}]");
}

TEST(TermText, PrintsMapsWithKeywordKeysForPlainAtoms) {
  EXPECT_EQ(to_string(term::map({})), "%{}");
  EXPECT_EQ(to_string(term::map({{"k", 2}, {"key"_a, 1}})), R"(%{key: 1, "k" => 2})");
  EXPECT_EQ(to_string(term::map({{"with space"_a, 1}})), R"(%{:"with space" => 1})");
  EXPECT_EQ(to_string(term::map({{true, term()}})), "%{true: nil}");
}

TEST(TermText, PrintsMapEntriesInKeyOrder) {
  term uut = term::map({{term::list({}), 5}, {"b"_a, 2}, {1, 1}, {"a"_a, 3}});
  EXPECT_EQ(to_string(uut), "%{1 => 1, a: 3, b: 2, [] => 5}");
}

TEST(TermText, PrintsNestedTerms) {
  term uut = make_tuple(atoms::ok, term::map({{"list"_a, term::list({"x", 1.0})}}));
  EXPECT_EQ(to_string(uut), R"({:ok, %{list: ["x", 1.0]}})");
}

TEST(TermText, PrintAppendsToTheString) {
  std::string out = "msg: ";
  print(make_tuple(atoms::ok, 1), out);
  EXPECT_EQ(out, "msg: {:ok, 1}");
}

TEST(TermText, StreamsTheSameText) {
  std::ostringstream os;
  os << make_tuple(atoms::error, "bad");
  EXPECT_EQ(os.str(), R"({:error, "bad"})");
}

} // namespace
} // namespace vigil
