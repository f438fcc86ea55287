// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/terminal_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using vigil::ctl::escape_control_characters;

TEST(EscapeControlCharacters, LeavesPlainTextTabsNewlinesAndUtf8Alone) {
  EXPECT_EQ(escape_control_characters(""), "");
  EXPECT_EQ(escape_control_characters("hello, world ~!"), "hello, world ~!");
  EXPECT_EQ(escape_control_characters("a\tb\nc"), "a\tb\nc");
  // é (C3 A9), € (E2 82 AC), U+00A0 (C2 A0): not controls.
  EXPECT_EQ(escape_control_characters("caf\xc3\xa9 \xe2\x82\xac \xc2\xa0"),
            "caf\xc3\xa9 \xe2\x82\xac \xc2\xa0");
}

TEST(EscapeControlCharacters, WritesC0ControlsAndDelInHex) {
  EXPECT_EQ(escape_control_characters("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
  EXPECT_EQ(escape_control_characters("\x1b[2J\x1b[H"), "\\x1b[2J\\x1b[H");
  EXPECT_EQ(escape_control_characters("over\rwrite"), "over\\x0dwrite");
  EXPECT_EQ(escape_control_characters(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape_control_characters("\x01\x1f\x7f"), "\\x01\\x1f\\x7f");
}

TEST(EscapeControlCharacters, WritesUtf8C1ControlsAsTheirCodePoint) {
  // U+009B is CSI, U+009D OSC: one code point each, two bytes in UTF-8.
  EXPECT_EQ(escape_control_characters("\xc2\x9b"
                                      "2J"),
            "\\x9b2J");
  EXPECT_EQ(escape_control_characters("\xc2\x80\xc2\x9d"
                                      "0;t\xc2\x9c"),
            "\\x80\\x9d0;t\\x9c");
  // A C2 at the end, or bytes 80-9F that are not a C1 code point, are not controls.
  EXPECT_EQ(escape_control_characters("x\xc2"), "x\xc2");
  EXPECT_EQ(escape_control_characters("\x9b"), "\x9b");
  EXPECT_EQ(escape_control_characters("\xe2\x80\x9b"), "\xe2\x80\x9b");
}

} // namespace
