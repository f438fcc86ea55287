// SPDX-License-Identifier: Apache-2.0
// Channels whose two ends live in this one process, on two mappings of one segment (as two
// processes would map it). channel_process_test.cpp runs the ends in real processes.
#include "vigil/ipc/channel.hpp"

#include "ipc_test_support.hpp"
#include "term_generator.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace vigil::ipc {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

channel_options small_rings() {
  channel_options o;
  o.ring_capacity = 4096;
  return o;
}

/// A creator and an attacher of one channel, both in this process, accepted.
struct pair_of_ends {
  explicit pair_of_ends(const channel_options& options = small_rings()) {
    auto c = channel::create(options);
    EXPECT_TRUE(c.has_value());
    daemon = std::move(*c);
    channel_options worker_options = options;
    worker_options.limits.create_atoms = true;
    auto a = channel::attach(unique_fd(::dup(daemon.fd())), worker_options);
    EXPECT_TRUE(a.has_value()) << a.error().message();
    worker = std::move(*a);
    auto ok = daemon.accept(::getpid(), 1s);
    EXPECT_TRUE(ok.has_value()) << ok.error().message();
  }

  channel daemon;
  channel worker;
};

TEST(ChannelHandshake, AttachesThroughASecondMappingAndExchangesTerms) {
  pair_of_ends ends;
  ASSERT_NE(ends.daemon.memory().data(), ends.worker.memory().data());
  EXPECT_EQ(ends.daemon.fd(), -1) << "accept closes the creator's descriptor";
  std::thread worker([&] {
    for (int i = 0; i < 2000; ++i) {
      auto got = ends.worker.receive(10s);
      if (!got.has_value() || !got->has_value()) {
        return;
      }
      if (!ends.worker.send(**got, {full_policy::wait, 10s}).has_value()) {
        return;
      }
    }
  });
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    term t = vigil::test::term_generator(seed).next(3);
    auto sent = ends.daemon.send(t, {full_policy::wait, 10s});
    if (!sent.has_value()) {
      ASSERT_EQ(sent.error().code, make_error_code(errc::limit_exceeded));
      t = term(static_cast<std::int64_t>(seed));
      ASSERT_EQ(*ends.daemon.send(t), send_status::sent);
    }
    auto back = ends.daemon.receive(10s);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    ASSERT_TRUE(back->has_value()) << "seed " << seed;
    ASSERT_EQ(**back, t) << "seed " << seed;
  }
  worker.join();
  EXPECT_EQ(ends.daemon.sent(), 2000U);
  EXPECT_EQ(ends.daemon.received(), 2000U);
}

TEST(ChannelHandshake, CreatorLearnsWhyAnAttacherRefused) {
  auto daemon = channel::create(small_rings());
  ASSERT_TRUE(daemon.has_value());
  reinterpret_cast<channel_header*>(daemon->memory().data())->version = 99;
  auto worker = channel::attach(unique_fd(::dup(daemon->fd())));
  ASSERT_FALSE(worker.has_value());
  EXPECT_NE(worker.error().context.find("channel version 99"), std::string::npos)
      << worker.error().context;
  auto ok = daemon->accept(::getpid(), 1s);
  ASSERT_FALSE(ok.has_value());
  EXPECT_EQ(ok.error().code, make_error_code(errc::decode_error));
  EXPECT_NE(ok.error().context.find("refused the handshake"), std::string::npos)
      << ok.error().context;
}

TEST(ChannelHandshake, AcceptGivesUpWhenNobodyAttaches) {
  auto daemon = channel::create(small_rings());
  ASSERT_TRUE(daemon.has_value());
  auto start = steady::now();
  auto ok = daemon->accept(::getpid(), 30ms);
  ASSERT_FALSE(ok.has_value());
  EXPECT_EQ(ok.error().code, std::make_error_code(std::errc::timed_out));
  EXPECT_LT(steady::now() - start, 5s);
}

TEST(ChannelHandshake, AttachRefusesASegmentThatIsNoChannel) {
  auto seg = segment::create(8192);
  ASSERT_TRUE(seg.has_value());
  auto worker = channel::attach(unique_fd(::dup(seg->fd())));
  ASSERT_FALSE(worker.has_value());
  EXPECT_EQ(worker.error().code, make_error_code(errc::decode_error));
}

TEST(ChannelHandshake, AttachRefusesRingsThatDoNotFitTheSegment) {
  auto daemon = channel::create(small_rings());
  ASSERT_TRUE(daemon.has_value());
  reinterpret_cast<channel_header*>(daemon->memory().data())->to_creator_capacity = 1 << 20;
  auto worker = channel::attach(unique_fd(::dup(daemon->fd())));
  ASSERT_FALSE(worker.has_value());
  EXPECT_NE(worker.error().context.find("do not fit"), std::string::npos);
}

TEST(ChannelPolicy, DropCountsTermsThatFindTheRingFull) {
  pair_of_ends ends;
  int sent = 0;
  for (int i = 0; i < 100; ++i) {
    auto s = ends.daemon.send(term(std::string(200, 'x')), {full_policy::drop, 0ns});
    ASSERT_TRUE(s.has_value());
    sent += *s == send_status::sent;
  }
  EXPECT_GT(sent, 0);
  EXPECT_EQ(ends.daemon.dropped(), static_cast<std::uint64_t>(100 - sent));
  EXPECT_EQ(ends.daemon.sent(), static_cast<std::uint64_t>(sent));
}

TEST(ChannelPolicy, WaitGivesUpAfterItsBound) {
  pair_of_ends ends;
  while (*ends.daemon.send(term(std::string(200, 'x')), {full_policy::drop, 0ns})
         == send_status::sent) {
  }
  auto start = steady::now();
  auto s = ends.daemon.send(term(std::string(200, 'x')), {full_policy::wait, 20ms});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, send_status::timed_out);
  EXPECT_GE(steady::now() - start, 20ms);
  EXPECT_LT(steady::now() - start, 5s);
  ASSERT_TRUE(ends.worker.receive(1s)->has_value());
  EXPECT_EQ(*ends.daemon.send(term(std::string(200, 'x'))), send_status::sent)
      << "room again after the reader took one";
}

TEST(ChannelPolicy, OversizedTermFailsWithoutBreakingTheChannel) {
  pair_of_ends ends;
  auto s = ends.daemon.send(term(std::string(5000, 'x')));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, make_error_code(errc::limit_exceeded));
  EXPECT_FALSE(ends.daemon.failure().has_value());
  EXPECT_EQ(*ends.daemon.send(term(1)), send_status::sent);
}

TEST(ChannelPolicy, HugeBoundsDoNotOverflowTheDeadline) {
  pair_of_ends ends;
  auto forever = std::chrono::nanoseconds::max();
  EXPECT_EQ(*ends.daemon.send(term(1), {full_policy::wait, forever}), send_status::sent);
  auto got = ends.worker.receive(forever);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, term(1));
}

TEST(ChannelReceive, TimesOutEmptyWithinItsBound) {
  pair_of_ends ends;
  auto start = steady::now();
  auto r = ends.daemon.receive(20ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  EXPECT_LT(steady::now() - start, 5s);
  auto now = ends.daemon.receive(0ns);
  ASSERT_TRUE(now.has_value());
  EXPECT_FALSE(now->has_value());
}

TEST(ChannelGarbage, AGarbageFrameBreaksTheChannelWithItsReason) {
  pair_of_ends ends;
  auto& h = *reinterpret_cast<channel_header*>(ends.worker.memory().data());
  auto up = ring_view::attach(ends.worker.memory().subspan(h.to_creator_offset));
  ASSERT_TRUE(up.has_value());
  ring_writer raw(*up);
  const std::byte garbage[] = {std::byte{2}, std::byte{1}, std::byte{0},
                               std::byte{0}, std::byte{0}, std::byte{1}};
  ASSERT_TRUE(*raw.try_write_frame(garbage));
  auto r = ends.daemon.receive(1s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, make_error_code(errc::decode_error));
  auto pid = std::to_string(::getpid());
  EXPECT_NE(r.error().context.find("channel to process " + pid + ": ring position 0"),
            std::string::npos)
      << r.error().context;
  ASSERT_TRUE(ends.daemon.failure().has_value());
  auto s = ends.daemon.send(term(1));
  ASSERT_FALSE(s.has_value()) << "a broken channel stays broken";
  EXPECT_EQ(s.error().context, r.error().context);
}

TEST(ChannelNamed, NameIsGoneOnceTheChildHasAttached) {
  auto prefix = "vigiltest" + std::to_string(::getpid());
  auto daemon = channel::create_named(7, 3, small_rings(), prefix);
  ASSERT_TRUE(daemon.has_value()) << daemon.error().message();
  auto parsed = segment_name::parse(daemon->name(), prefix);
  ASSERT_TRUE(parsed.has_value()) << daemon->name();
  EXPECT_EQ(parsed->child, 7U);
  auto worker = channel::attach_named(daemon->name());
  ASSERT_TRUE(worker.has_value()) << worker.error().message();
  ASSERT_TRUE(daemon->accept(::getpid(), 1s).has_value());
  EXPECT_FALSE(segment::open_named(daemon->name()).has_value());
  ASSERT_EQ(*daemon->send(make_tuple(1, "two")), send_status::sent);
  auto got = worker->receive(1s);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, make_tuple(1, "two"));
}

} // namespace
} // namespace vigil::ipc
