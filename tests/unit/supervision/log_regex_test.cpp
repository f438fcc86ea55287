// SPDX-License-Identifier: Apache-2.0
// The `log` readiness regex (log_regex.hpp): the lines it finds, and what it refuses.
#include "vigil/supervision/log_regex.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::supervision {
namespace {

bool refused(const std::string& regex) {
  try {
    (void)compile_log_regex(regex);
    return false;
  } catch (const std::regex_error&) {
    return true;
  }
}

TEST(LogRegex, FindsTheLinesASearchForTheRegexFinds) {
  // docs/readiness.md promises the first line the regex finds: the one-pass whole-line
  // match must agree with a plain search, anchors, alternations and assertions included.
  const std::vector<std::string> regexes = {
      "ready",
      "^ready$",
      "a|b",
      "^a|b$",
      "^$",
      "",
      "\\bready\\b",
      "\\Bready",
      "re(a|b)*dy",
      "[0-9]+ ms$",
      "^(foo|bar)baz",
      "x*",
      "\\d{3}",
      "^\\s*ok",
      "(a|ab)(c|bcd)(d*)",
      "[^]]ready",
      "listening on .*:\\d+",
      "^.$",
      "READY",
  };
  const std::vector<std::string> lines = {"ready",       " ready",  "ready ",
                                          "xready",      "a",       "b",
                                          "ab",          "ba",      "",
                                          "foobaz",      "xfoobaz", "barbaz",
                                          "123",         "12",      "listening on 0.0.0.0:80",
                                          "  ok",        "ok go",   "took 45 ms",
                                          "took 45 msx", "abcd",    "ready\r",
                                          "r",           "]ready",  "zready"};
  for (const auto& regex : regexes) {
    const std::regex search(regex, std::regex::ECMAScript);
    const std::regex check = compile_log_regex(regex);
    for (const auto& line : lines) {
      EXPECT_EQ(log_regex_finds(check, line), std::regex_search(line, search))
          << "/" << regex << "/ in \"" << line << "\"";
    }
  }
}

TEST(LogRegex, RefusesWhatWouldSearchALineInMoreThanOnePass) {
  // Each line is the child's and is searched on the thread that serves every OS child: a
  // back-reference needs backtracking, and a lookahead runs to the end of the line from
  // every position it is reached at ("(?=.*z)": seconds per 16 KiB line), so both are
  // refused when the config is loaded, before any child prints a line.
  EXPECT_TRUE(refused("(a)\\1"));
  EXPECT_TRUE(refused("(?=.*port)listening"));
  EXPECT_TRUE(refused("^(?!error).*ready"));
  EXPECT_TRUE(refused("\\\\(?=x)")); // an escaped backslash, then a lookahead
  EXPECT_TRUE(refused("a)(b"));      // nor does it compile
  EXPECT_TRUE(refused("[[:digit:]]+(?=x)"));
  // The same characters that are no lookahead are fine.
  EXPECT_FALSE(refused("(?:listening|ready) on"));
  EXPECT_FALSE(refused("\\(?=x"));  // an optional literal parenthesis, then "=x"
  EXPECT_FALSE(refused("[(?=]ok")); // a bracket expression
  EXPECT_FALSE(refused("[\\](?!]ok"));
  EXPECT_FALSE(refused("[[:alpha:](?=]x")); // one bracket expression, its class inside
}

TEST(LogRegex, SaysWhyALookaheadIsRefused) {
  try {
    (void)compile_log_regex("(?=.*port)listening");
    FAIL() << "a lookahead was taken";
  } catch (const std::regex_error& e) {
    EXPECT_NE(std::string(e.what()).find("lookahead"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace vigil::supervision
