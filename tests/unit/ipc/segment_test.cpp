// SPDX-License-Identifier: Apache-2.0
#include "vigil/ipc/segment.hpp"

#include "ipc_test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace vigil::ipc {
namespace {

/// A prefix of this test process's own, so that runs in parallel never meet.
std::string test_prefix() {
  return "vigiltest" + std::to_string(::getpid());
}

bool shm_exists(const std::string& name) {
  struct stat st {};

  return ::stat(("/dev/shm" + name).c_str(), &st) == 0;
}

TEST(SegmentName, ParsesWhatItPrints) {
  segment_name n{"vigil", 4711, 12, 3, std::string(32, 'a')};
  EXPECT_EQ(n.str(), "/vigil-4711-12-3-" + std::string(32, 'a'));
  auto back = segment_name::parse(n.str());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->daemon, 4711);
  EXPECT_EQ(back->child, 12U);
  EXPECT_EQ(back->incarnation, 3U);
  EXPECT_TRUE(segment_name::parse(n.str().substr(1)).has_value()) << "as /dev/shm lists it";
}

TEST(SegmentName, RejectsOtherNames) {
  std::string hex(32, 'f');
  for (std::string bad : {"/vigil-4711-12-3-" + hex.substr(1), "/vigil-4711-12-3-" + hex + "0",
                          "/vigil-0-12-3-" + hex, "/vigil--12-3-" + hex, "/vigil-4711-12-" + hex,
                          "/vigilx-4711-12-3-" + hex, "/other-4711-12-3-" + hex,
                          "/vigil-4711-12-3-" + std::string(32, 'G'), "/vigil-47a1-12-3-" + hex}) {
    EXPECT_FALSE(segment_name::parse(bad).has_value()) << bad;
  }
}

TEST(Segment, AnonymousSegmentIsPrivateZeroedAndSealed) {
  auto seg = segment::create(10'000);
  ASSERT_TRUE(seg.has_value()) << seg.error().message();
  EXPECT_EQ(seg->size() % 4096, 0U);
  EXPECT_GE(seg->size(), 10'000U);
  EXPECT_TRUE(seg->name().empty());
  for (std::byte b : seg->bytes()) {
    ASSERT_EQ(b, std::byte{0});
  }

  struct stat st {};

  ASSERT_EQ(::fstat(seg->fd(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_NE(::fcntl(seg->fd(), F_GETFD) & FD_CLOEXEC, 0) << "a spawner passes it with dup2";
  EXPECT_EQ(::ftruncate(seg->fd(), 0), -1) << "a child must not be able to shrink it";
  EXPECT_EQ(errno, EPERM);
}

TEST(Segment, AttachSharesTheBytesThroughASecondMapping) {
  auto seg = segment::create(4096);
  ASSERT_TRUE(seg.has_value());
  auto other = segment::attach(unique_fd(::dup(seg->fd())));
  ASSERT_TRUE(other.has_value()) << other.error().message();
  ASSERT_NE(other->bytes().data(), seg->bytes().data());
  seg->bytes()[100] = std::byte{42};
  EXPECT_EQ(other->bytes()[100], std::byte{42});
}

TEST(Segment, DestroyingASegmentLeavesNoMappingOrDescriptor) {
  int maps = ipc_test::mapped_segments();
  int fds = ipc_test::open_segments();
  {
    auto seg = segment::create(4096);
    ASSERT_TRUE(seg.has_value());
    EXPECT_EQ(ipc_test::mapped_segments(), maps + 1);
    EXPECT_EQ(ipc_test::open_segments(), fds + 1);
  }
  EXPECT_EQ(ipc_test::mapped_segments(), maps);
  EXPECT_EQ(ipc_test::open_segments(), fds);
}

TEST(Segment, NamedSegmentIsUnguessableAndGoneAfterItsLastHolderUnlinks) {
  auto seg = segment::create_named(4096, 12, 3, test_prefix());
  ASSERT_TRUE(seg.has_value()) << seg.error().message();
  auto parsed = segment_name::parse(seg->name(), test_prefix());
  ASSERT_TRUE(parsed.has_value()) << seg->name();
  EXPECT_EQ(parsed->daemon, ::getpid());
  EXPECT_EQ(parsed->child, 12U);
  EXPECT_EQ(parsed->incarnation, 3U);
  auto second = segment::create_named(4096, 12, 3, test_prefix());
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->name(), seg->name()) << "names must be random";

  struct stat st {};

  ASSERT_EQ(::fstat(seg->fd(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  std::string name = seg->name();
  EXPECT_TRUE(shm_exists(name));
  auto child_side = segment::open_named(name);
  ASSERT_TRUE(child_side.has_value()) << child_side.error().message();
  EXPECT_FALSE(shm_exists(name)) << "the attacher removes the name at once";
  EXPECT_TRUE(seg->unlink().has_value()) << "unlinking twice is harmless";
  std::string second_name = second->name();
  *second = segment();
  EXPECT_FALSE(shm_exists(second_name)) << "the creator's destructor removes the name";
}

TEST(Segment, RemoveStaleDeletesOnlySegmentsOfDeadDaemons) {
  // No pid exceeds the kernel's PID_MAX_LIMIT (2^22), so this daemon is surely dead.
  constexpr pid_t dead = (1 << 22) + 1;
  std::string hex(32, 'c');
  std::string stale = "/" + test_prefix() + "-" + std::to_string(dead) + "-1-2-" + hex;
  std::string live = "/" + test_prefix() + "-" + std::to_string(::getpid()) + "-1-2-" + hex;
  std::string odd = "/" + test_prefix() + "-" + std::to_string(dead) + "-1-2-short";
  for (const auto& n : {stale, live, odd}) {
    int fd = ::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0) << n;
    ::close(fd);
  }
  auto removed = segment::remove_stale(test_prefix());
  ASSERT_TRUE(removed.has_value()) << removed.error().message();
  EXPECT_EQ(*removed, 1U);
  EXPECT_FALSE(shm_exists(stale));
  EXPECT_TRUE(shm_exists(live));
  EXPECT_TRUE(shm_exists(odd));
  ::shm_unlink(live.c_str());
  ::shm_unlink(odd.c_str());
}

TEST(Segment, RejectsSizesOutOfRange) {
  EXPECT_FALSE(segment::create(0).has_value());
  EXPECT_FALSE(segment::create(std::size_t{1} << 40).has_value());
  EXPECT_FALSE(segment::create_named(4096, 1, 1, "bad/prefix").has_value());
  EXPECT_FALSE(segment::open_named("/vigil-no-such-segment").has_value());
}

} // namespace
} // namespace vigil::ipc
