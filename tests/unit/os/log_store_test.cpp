// SPDX-License-Identifier: Apache-2.0
// Per-worker logs: rotation by size and count, the memory ring, safe text.
#include "vigil/os/log_store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace vigil::os::test {
namespace {

namespace fs = std::filesystem;

class LogStore : public ::testing::Test {
public:
  LogStore() {
    char tmpl[] = "/tmp/vigil-logs-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }

  ~LogStore() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void append(log_store& s, const std::string& key, std::string_view line) {
    std::string_view lines[] = {line};
    s.append(key, "stdout", lines);
  }

  fs::path dir;
};

TEST_F(LogStore, RotatesBySizeAndKeepsTheGivenNumberOfBackups) {
  log_store uut({.dir = dir, .max_bytes = 200, .backups = 2, .memory_lines = 10});
  for (int i = 0; i < 40; ++i) {
    append(uut, "web", "line number " + std::to_string(i));
  }
  EXPECT_TRUE(fs::exists(dir / "web.log"));
  EXPECT_TRUE(fs::exists(dir / "web.log.1"));
  EXPECT_TRUE(fs::exists(dir / "web.log.2"));
  EXPECT_FALSE(fs::exists(dir / "web.log.3"));
  for (const char* name : {"web.log", "web.log.1", "web.log.2"}) {
    EXPECT_LE(fs::file_size(dir / name), 200U) << name;
  }
  std::ifstream f(dir / "web.log");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(" stdout line number 39\n"), std::string::npos) << text;
}

TEST_F(LogStore, KeepsTheLastLinesInMemory) {
  log_store uut({.dir = {}, .memory_lines = 3});
  for (int i = 0; i < 5; ++i) {
    append(uut, "a", std::to_string(i));
  }
  auto lines = uut.recent("a", 10);
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0].line, "2");
  EXPECT_EQ(lines[2].line, "4");
  EXPECT_EQ(lines[2].stream, "stdout");
  EXPECT_EQ(uut.recent("a", 1).at(0).line, "4");
  EXPECT_TRUE(uut.recent("nobody", 5).empty());
}

TEST_F(LogStore, MakesLinesValidUtf8ForTheMemoryRing) {
  EXPECT_EQ(valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(valid_utf8("a\xFF"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(valid_utf8("\xC3"), "\xEF\xBF\xBD") << "a truncated sequence";
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate";
  EXPECT_EQ(valid_utf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "an overlong NUL";
}

TEST_F(LogStore, FileNamesCannotCollideOrEscapeTheDirectory) {
  EXPECT_EQ(file_name_for("web"), "web.log");
  EXPECT_EQ(file_name_for("root/web"), "root%2Fweb.log");
  EXPECT_EQ(file_name_for("root_2Fweb"), "root_2Fweb.log");
  EXPECT_EQ(file_name_for(".."), "%2E..log");
}

} // namespace
} // namespace vigil::os::test
