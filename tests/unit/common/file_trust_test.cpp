// SPDX-License-Identifier: Apache-2.0
// The StrictModes rule of vigil/common/file_trust.hpp, on a real file system. Root only: the
// cases need files of another owner.
#include "vigil/common/file_trust.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using vigil::open_trusted_dir;
using vigil::trusted_path;

constexpr ::uid_t nobody = 65534;

class FileTrust : public ::testing::Test {
protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root to own files as another user";
    }
    char name[] = "/tmp/vigil_file_trust_XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
    file_ = dir_ / "f";
    std::ofstream(file_) << "x\n";
    ::chmod(file_.c_str(), 0644);
  }

  void TearDown() override {
    if (!dir_.empty()) {
      fs::remove_all(dir_);
    }
  }

  [[nodiscard]] std::string problem(const fs::path& p, ::uid_t owner = 0) const {
    auto r = trusted_path(p.string(), owner);
    return r ? std::string() : r.error().message;
  }

  fs::path dir_;
  fs::path file_;
};

TEST_F(FileTrust, AcceptsRootsFileInARootOnlyDirectoryBelowTheStickyTmp) {
  auto r = trusted_path(file_.string());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, fs::canonical(file_).string());
}

TEST_F(FileTrust, RefusesAFileOthersOwnOrMayWrite) {
  ASSERT_EQ(::chmod(file_.c_str(), 0664), 0);
  EXPECT_EQ(problem(file_), "the file " + file_.string()
                                + " is writable by its group (gid 0, "
                                  "mode 0664)");
  ASSERT_EQ(::chmod(file_.c_str(), 0646), 0);
  EXPECT_EQ(problem(file_),
            "the file " + file_.string() + " is writable by every user (mode 0646)");
  ASSERT_EQ(::chmod(file_.c_str(), 0644), 0);
  ASSERT_EQ(::chown(file_.c_str(), nobody, nobody), 0);
  EXPECT_EQ(problem(file_), "the file " + file_.string() + " is owned by uid 65534, not by root");
  // The owner named by the caller is trusted as well as root.
  EXPECT_EQ(problem(file_, nobody), "");
}

TEST_F(FileTrust, RefusesADirectoryOnTheWayThatOthersMayWrite) {
  fs::create_directory(dir_ / "sub");
  auto inner = dir_ / "sub" / "f";
  fs::copy_file(file_, inner);
  ASSERT_EQ(::chmod((dir_ / "sub").c_str(), 0775), 0);
  EXPECT_EQ(problem(inner), "the directory " + (dir_ / "sub").string()
                                + " is writable by its group (gid 0, mode 0775)");
  // A sticky directory is fine above an entry of root's, not above another user's.
  ASSERT_EQ(::chmod((dir_ / "sub").c_str(), 01777), 0);
  EXPECT_EQ(problem(inner), "");
  ASSERT_EQ(::chown(inner.c_str(), nobody, nobody), 0);
  EXPECT_NE(problem(inner).find("is owned by uid 65534"), std::string::npos);
}

TEST_F(FileTrust, ChecksTheDirectoryOfASymlinkAndItsTarget) {
  auto open_dir = dir_ / "open";
  fs::create_directory(open_dir);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
  auto link = open_dir / "link";
  fs::create_symlink(file_, link);
  // The target is fine, but anyone could point the link elsewhere.
  EXPECT_EQ(problem(link),
            "the directory " + open_dir.string() + " is writable by every user (mode 0777)");
  // A link in a trusted directory to a file in an open one: the target's way is checked.
  auto target = open_dir / "t";
  fs::copy_file(file_, target);
  auto good_link = dir_ / "good";
  fs::create_symlink(target, good_link);
  EXPECT_EQ(problem(good_link),
            "the directory " + open_dir.string() + " is writable by every user (mode 0777)");
}

TEST_F(FileTrust, OpensOnlyARealDirectoryOfItsOwner) {
  EXPECT_TRUE(open_trusted_dir(dir_.string(), 0));
  auto link = dir_ / "link";
  fs::create_symlink(dir_, link);
  auto via_link = open_trusted_dir(link.string(), 0);
  ASSERT_FALSE(via_link);
  EXPECT_NE(via_link.error().message.find("not a directory (a symlink?)"), std::string::npos);
  ASSERT_EQ(::chown(dir_.c_str(), nobody, nobody), 0);
  auto other = open_trusted_dir(dir_.string(), 0);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("owned by uid 65534"), std::string::npos);
}

} // namespace
