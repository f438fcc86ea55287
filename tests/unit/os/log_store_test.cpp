// SPDX-License-Identifier: Apache-2.0
// Per-worker logs: rotation by size and count, the memory ring, safe text.
#include "vigil/os/log_store.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

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

TEST_F(LogStore, KeepsAtMostMemoryBytesOfLongLinesButAlwaysTheNewest) {
  // A child's long lines cannot make vigild hold memory_lines of them.
  log_store uut({.dir = {}, .memory_lines = 1000, .memory_bytes = 100});
  for (int i = 0; i < 10; ++i) {
    append(uut, "a", std::string(30, static_cast<char>('0' + i)));
  }
  auto lines = uut.recent("a", 1000);
  ASSERT_EQ(lines.size(), 3U) << "90 bytes fit, a fourth line would make 120";
  EXPECT_EQ(lines.back().line, std::string(30, '9'));
  append(uut, "a", std::string(500, 'x'));
  lines = uut.recent("a", 1000);
  ASSERT_EQ(lines.size(), 1U) << "a line over the bound is still kept, alone";
  EXPECT_EQ(lines[0].line.size(), 500U);
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

std::string read_all(const fs::path& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

/// What a store told: on_error and on_resume messages, in order.
struct told {
  std::vector<std::string> errors;
  std::vector<std::string> resumes;

  log_options options(const fs::path& dir) {
    return {.dir = dir,
            .memory_lines = 100,
            .on_error = [this](const std::string& m) { errors.push_back(m); },
            .on_resume = [this](const std::string& m) { resumes.push_back(m); }};
  }
};

TEST_F(LogStore, AFileThatCannotBeOpenedCountsItsLinesAndSaysSoOnceEachWay) {
  told t;
  log_store uut(t.options(dir));
  fs::create_directory(dir / "root%2Fweb.log"); // where the file should be: open fails
  for (int i = 0; i < 3; ++i) {
    append(uut, "root/web", "lost " + std::to_string(i));
  }
  ASSERT_EQ(t.errors.size(), 1U);
  EXPECT_NE(t.errors[0].find("root/web: "), std::string::npos) << t.errors[0];
  EXPECT_NE(t.errors[0].find("dropping its lines"), std::string::npos) << t.errors[0];
  EXPECT_EQ(uut.lines_dropped("root/web"), 3U);
  EXPECT_EQ(uut.recent("root/web", 10).size(), 3U) << "the memory tail keeps them";
  EXPECT_TRUE(t.resumes.empty());

  fs::remove(dir / "root%2Fweb.log");
  append(uut, "root/web", "kept");
  ASSERT_EQ(t.resumes.size(), 1U);
  EXPECT_NE(t.resumes[0].find("3 lines were dropped"), std::string::npos) << t.resumes[0];
  EXPECT_EQ(uut.lines_dropped("root/web"), 3U);
  EXPECT_NE(read_all(dir / "root%2Fweb.log").find(" stdout kept\n"), std::string::npos);
  append(uut, "root/web", "kept too");
  EXPECT_EQ(t.errors.size(), 1U);
  EXPECT_EQ(t.resumes.size(), 1U);
}

/// A real full filesystem: a 64 KiB tmpfs (root only).
class FullDisk : public LogStore {
public:
  FullDisk() {
    if (::geteuid() != 0) {
      why_not = "mounting a tmpfs needs root";
      return;
    }
    mnt = dir / "mnt";
    fs::create_directory(mnt);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k,mode=0755") != 0) {
      why_not = std::string("mount -t tmpfs failed: ") + std::strerror(errno);
      return;
    }
    mounted = true;
  }

  ~FullDisk() override {
    if (mounted) {
      (void)::umount2(mnt.c_str(), MNT_DETACH);
    }
  }

  /// Fills the filesystem with one file, until a write fails with ENOSPC.
  void fill() {
    int fd = ::open((mnt / "filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::string block(4096, 'x');
    int error = 0;
    for (int i = 0; i < 1000 && error == 0; ++i) {
      if (::write(fd, block.data(), block.size()) < 0) {
        error = errno;
      }
    }
    ::close(fd);
    ASSERT_EQ(error, ENOSPC);
  }

  fs::path mnt;
  bool mounted = false;
  std::string why_not;
};

TEST_F(FullDisk, ADiskFullLosesNoLineSilently) {
  if (!mounted) {
    GTEST_SKIP() << why_not;
  }
  told t;
  log_store uut(t.options(mnt));
  append(uut, "root/web", "before");
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  ASSERT_NO_FATAL_FAILURE(fill());
  // The file's first page is its own: fill it too, then every later line fails.
  std::string filler(1000, 'y');
  for (int i = 0; i < 10; ++i) {
    append(uut, "root/web", filler);
  }
  ASSERT_EQ(t.errors.size(), 1U) << "warned once, not per line";
  EXPECT_NE(t.errors[0].find("root/web: log file " + (mnt / "root%2Fweb.log").string()),
            std::string::npos)
      << t.errors[0];
  EXPECT_NE(t.errors[0].find(std::strerror(ENOSPC)), std::string::npos) << t.errors[0];
  std::uint64_t dropped = uut.lines_dropped("root/web");
  EXPECT_GE(dropped, 1U);
  for (int i = 0; i < 5; ++i) {
    append(uut, "root/web", "while full " + std::to_string(i));
  }
  EXPECT_EQ(t.errors.size(), 1U);
  EXPECT_EQ(uut.lines_dropped("root/web"), dropped + 5);
  EXPECT_EQ(uut.recent("root/web", 1).at(0).line, "while full 4") << "the tail keeps them";
  EXPECT_TRUE(t.resumes.empty());

  fs::remove(mnt / "filler");
  append(uut, "root/web", "after");
  ASSERT_EQ(t.resumes.size(), 1U);
  EXPECT_NE(t.resumes[0].find(std::to_string(dropped + 5) + " lines were dropped"),
            std::string::npos)
      << t.resumes[0];
  auto text = read_all(mnt / "root%2Fweb.log");
  EXPECT_NE(text.find(" stdout before\n"), std::string::npos);
  EXPECT_EQ(text.find("while full"), std::string::npos);
  // A line cut short by the full disk does not swallow the next one: "after" has a line of
  // its own, "<UTC time> stdout after".
  auto at = text.find(" stdout after\n");
  ASSERT_NE(at, std::string::npos) << text;
  auto line_start = text.rfind('\n', at);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  EXPECT_EQ(at - line_start, std::string("2026-01-01T00:00:00.000Z").size())
      << text.substr(line_start);
  EXPECT_EQ(uut.lines_dropped("root/web"), dropped + 5) << "kept after the resumption";
  EXPECT_EQ(t.errors.size(), 1U);
}

} // namespace
} // namespace vigil::os::test
