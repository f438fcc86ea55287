// SPDX-License-Identifier: Apache-2.0
#include "vigil/ipc/ring.hpp"

#include "vigil/common/unique_fd.hpp"
#include "vigil/ipc/codec.hpp"

#include "eventually.hpp"
#include "ipc_test_support.hpp"
#include "term_generator.hpp"

#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vigil::ipc {
namespace {

using ipc_test::checked_term;
using ipc_test::is_checked_term;
using namespace std::chrono_literals;
using namespace std::string_view_literals;
using steady = std::chrono::steady_clock;

#if defined(__SANITIZE_THREAD__)
constexpr int kThreadedTerms = 10'000;
#else
constexpr int kThreadedTerms = 50'000;
#endif

/// Ring memory with the alignment a mapped segment has.
struct alignas(64) line {
  std::byte bytes[64];
};

class test_ring {
public:
  explicit test_ring(std::size_t capacity, decode_limits limits = {})
      : memory_(ring_bytes(capacity) / sizeof(line)) {
    auto v = ring_view::create(bytes(), capacity);
    EXPECT_TRUE(v.has_value());
    view = *v;
    writer = ring_writer(view);
    reader = ring_reader(view, limits);
  }

  std::span<std::byte> bytes() {
    return std::as_writable_bytes(std::span(memory_.data(), memory_.size()));
  }

  /// Publishes `raw` at data offset `at` as if a writer had, with `head` as given.
  void plant(std::size_t at, std::string_view raw, std::uint64_t head) {
    std::memcpy(view.data() + at, raw.data(), raw.size());
    view.header().head.store(head);
  }

  ring_view view;
  ring_writer writer;
  ring_reader reader;

private:
  std::vector<line> memory_;
};

/// A frame header announcing `length` body bytes, then `body`.
std::string frame(std::uint32_t length, std::string_view body = {}) {
  std::string out(1, static_cast<char>(wire_version));
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((length >> (8 * i)) & 0xff);
  }
  return out + std::string(body);
}

void expect_failure(ring_reader& reader, errc code, std::string_view context_part) {
  auto r = reader.try_read();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, make_error_code(code)) << r.error().context;
  EXPECT_NE(r.error().context.find(context_part), std::string::npos) << r.error().context;
  auto again = reader.try_read();
  ASSERT_FALSE(again.has_value()) << "a failed reader must stay failed";
  EXPECT_EQ(again.error().context, r.error().context);
}

TEST(RingTransfer, DeliversGeneratedTermsInOrderAcrossManyWraps) {
  test_ring ring(1024);
  std::deque<term> in_flight;
  std::uint64_t seed = 0;
  for (int round = 0; round < 6000; ++round) {
    term t = test::term_generator(seed++).next(2);
    if (encoded_size(t) > ring.writer.max_frame()) {
      continue;
    }
    auto wrote = ring.writer.try_write(t);
    ASSERT_TRUE(wrote.has_value()) << wrote.error().context;
    if (*wrote) {
      in_flight.push_back(t);
    }
    // Read on alternate rounds, so that the ring runs full at times.
    while (!in_flight.empty() && (round % 2 == 0 || !*wrote)) {
      auto got = ring.reader.try_read();
      ASSERT_TRUE(got.has_value()) << got.error().context;
      ASSERT_TRUE(got->has_value());
      ASSERT_EQ(**got, in_flight.front()) << "round " << round;
      in_flight.pop_front();
      if (*wrote) {
        break;
      }
    }
  }
  EXPECT_GT(ring.view.header().head.load(), 50 * ring.view.capacity()) << "too few wraps";
}

TEST(RingTransfer, ReportsEmptyAndFull) {
  test_ring ring(1024);
  auto empty = ring.reader.try_read();
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->has_value());
  int written = 0;
  while (*ring.writer.try_write(term(std::string(100, 'x')))) {
    ++written;
  }
  EXPECT_EQ(written, 1024 / 112); // 5 + 2 + 100 bytes, padded to 112
  ASSERT_TRUE(ring.reader.try_read()->has_value());
  EXPECT_TRUE(*ring.writer.try_write(term(std::string(100, 'x'))));
}

TEST(RingTransfer, RejectsFramesOverHalfTheCapacityAndStaysUsable) {
  test_ring ring(1024);
  auto big = ring.writer.try_write(term(std::string(600, 'x')));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, make_error_code(errc::limit_exceeded));
  ASSERT_TRUE(*ring.writer.try_write(term(std::string(500, 'y'))));
  auto got = ring.reader.try_read();
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, term(std::string(500, 'y')));
}

TEST(RingAttach, AcceptsWhatCreateWrote) {
  test_ring ring(2048);
  auto v = ring_view::attach(ring.bytes());
  ASSERT_TRUE(v.has_value()) << v.error().context;
  EXPECT_EQ(v->capacity(), 2048U);
}

TEST(RingAttach, RejectsBadMagicVersionAndCapacity) {
  test_ring ring(2048);
  auto& h = ring.view.header();
  h.magic ^= 1;
  EXPECT_FALSE(ring_view::attach(ring.bytes()).has_value());
  h.magic ^= 1;
  h.version = 2;
  EXPECT_FALSE(ring_view::attach(ring.bytes()).has_value());
  h.version = ring_version;
  for (std::uint64_t cap : {0ULL, 1000ULL, 4096ULL, 1ULL << 40}) {
    h.capacity = cap;
    EXPECT_FALSE(ring_view::attach(ring.bytes()).has_value()) << cap;
  }
  EXPECT_FALSE(ring_view::attach(ring.bytes().first(100)).has_value());
}

TEST(RingGarbage, RejectsAnUnknownVersionByte) {
  test_ring ring(1024);
  ring.plant(0, "\x7f\x01\x00\x00\x00\x01"sv, 8);
  expect_failure(ring.reader, errc::decode_error, "ring position 0");
}

TEST(RingGarbage, RejectsAFrameLongerThanWhatWasPublished) {
  test_ring ring(1024);
  ring.plant(0, frame(500, "\x01\x02"), 16);
  expect_failure(ring.reader, errc::decode_error, "overruns the 16 bytes published");
}

TEST(RingGarbage, RejectsAFrameOverTheLimitBeforeReadingIt) {
  test_ring ring(1024, decode_limits{.max_frame_bytes = 64});
  ring.plant(0, frame(1U << 30), 1024);
  expect_failure(ring.reader, errc::limit_exceeded, "ring position 0");
}

TEST(RingGarbage, RejectsAFrameThatWouldWrapPastTheEnd) {
  test_ring ring(1024);
  // Consume up to position 1008, then claim a 32-byte frame there: 16 bytes short of the end.
  ring.view.header().tail.store(1008);
  ring.view.header().head.store(1008);
  ring.reader = ring_reader(ring.view, {});
  ring.plant(1008, frame(27), 1008 + 32);
  expect_failure(ring.reader, errc::decode_error, "overruns");
}

TEST(RingGarbage, RejectsImpossibleHeads) {
  for (std::uint64_t head : {1024ULL + 8, 13ULL, ~0ULL - 7}) {
    test_ring ring(1024);
    ring.view.header().head.store(head);
    expect_failure(ring.reader, errc::decode_error, "is impossible");
  }
}

TEST(RingGarbage, RejectsATailThatIsNoRecordBoundary) {
  test_ring ring(1024);
  // A header may not straddle the end: 1021 leaves 3 bytes before it.
  ring.view.header().tail.store(1021);
  ring.view.header().head.store(1024);
  ring.reader = ring_reader(ring.view, {});
  expect_failure(ring.reader, errc::decode_error, "not a multiple of 8");
}

TEST(RingGarbage, RejectsPaddingWhereNoFrameCanFollow) {
  test_ring ring(1024);
  ring.plant(0, std::string(8, '\0'), 8);
  expect_failure(ring.reader, errc::decode_error, "padding");
}

TEST(RingGarbage, RejectsABodyThatIsNoTerm) {
  test_ring ring(1024);
  ring.plant(0, frame(3, "\xff\xff\xff"), 8);
  expect_failure(ring.reader, errc::decode_error, "ring position 0");
}

TEST(RingGarbage, RefusesNewAtomsWhenToldTo) {
  test_ring ring(1024, decode_limits{.create_atoms = false});
  std::string name = "ring_test_atom_nobody_interned_yet";
  ring.plant(0, frame(static_cast<std::uint32_t>(2 + name.size()), "\x03\x22" + name), 48);
  expect_failure(ring.reader, errc::limit_exceeded, "ring position 0");
}

TEST(RingGarbage, WriterRejectsAnImpossibleTail) {
  test_ring ring(1024);
  ASSERT_TRUE(*ring.writer.try_write(term(1)));
  ring.view.header().tail.store(4096);
  // The cached tail still shows room; fill the ring until the writer has to look again.
  result<bool> r = true;
  for (int i = 0; i < 200 && r.has_value(); ++i) {
    r = ring.writer.try_write(term(std::string(100, 'z')));
  }
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, make_error_code(errc::decode_error));
  EXPECT_NE(r.error().context.find("tail"), std::string::npos) << r.error().context;
}

TEST(RingWake, SleepingReaderIsWokenByTheWriter) {
  test_ring ring(1024);
  std::atomic<bool> woke{false};
  // The reader's bound is long, so that only a wake from the writer ends its wait well
  // before it; the check below catches a missing wake, it does not time the wake-up.
  constexpr auto bound = 60s;
  auto start = steady::now();
  std::thread reader([&] {
    ring.reader.wait_readable(0ns, bound);
    woke = ring.reader.readable();
  });
  // The reader announces in the header that it sleeps before it does; from then on the
  // writer must wake it (or the reader sees the write before sleeping).
  // EXPECT, not ASSERT: the reader thread is joined whatever happens.
  EXPECT_TRUE(vigil::test::eventually([&] {
    return ring.view.header().reader_sleeping.load(std::memory_order_seq_cst) == 1;
  })) << "the reader never went to sleep";
  EXPECT_TRUE(*ring.writer.try_write(term(1)));
  reader.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(steady::now() - start, bound / 2) << "the writer did not wake the sleeping reader";
}

TEST(RingWake, AReaderWithAWakeFdSignalsItOnlyWhenItFreesRoomForAWriterThatAsked) {
  // vigild's port cannot sleep on the futex word: it waits for room through the worker's
  // wake eventfd, which its reactor watches. Unasked, the reader signals nothing.
  test_ring ring(1024);
  unique_fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ASSERT_TRUE(wake);
  ring.reader = ring_reader(ring.view, {}, wake.get());
  auto signals = [&] {
    std::uint64_t count = 0;
    return ::read(wake.get(), &count, sizeof count) == sizeof count ? count : 0;
  };
  const term big(std::string(400, 'x')); // two fill the ring
  while (*ring.writer.try_write(big)) {
  }
  ASSERT_TRUE(ring.reader.try_read()->has_value());
  ASSERT_TRUE(ring.reader.try_read()->has_value());
  EXPECT_EQ(signals(), 0U) << "the reader signalled a writer that did not ask";
  while (*ring.writer.try_write(big)) {
  }
  ring.view.header().writer_sleeping.store(1, std::memory_order_seq_cst);
  ASSERT_TRUE(ring.reader.try_read()->has_value());
  EXPECT_EQ(signals(), 1U) << "the reader freed room without telling the writer that asked";
  EXPECT_EQ(ring.view.header().writer_sleeping.load(), 0U);
  EXPECT_TRUE(*ring.writer.try_write(big));
}

TEST(RingWake, WaitsEndAtTheirBoundWhenNothingComes) {
  test_ring ring(1024);
  auto start = steady::now();
  ring.reader.wait_readable(50us, 20ms);
  EXPECT_LT(steady::now() - start, 5s);
  while (*ring.writer.try_write(term(std::string(400, 'x')))) {
  }
  start = steady::now();
  ring.writer.wait_writable(400, 50us, 20ms);
  EXPECT_LT(steady::now() - start, 5s);
}

TEST(RingConcurrency, ThreadsPassChecksummedTermsUnderBackpressure) {
  test_ring ring(4096);
  auto deadline = steady::now() + 120s;
  std::thread writer([&] {
    for (std::int64_t seq = 0; seq < kThreadedTerms && steady::now() < deadline;) {
      term t = checked_term(seq);
      auto r = ring.writer.try_write(t);
      if (!r.has_value()) {
        return;
      }
      if (*r) {
        ++seq;
      } else {
        ring.writer.wait_writable(encoded_size(t), 5us, 10ms);
      }
    }
  });
  std::int64_t seq = 0;
  while (seq < kThreadedTerms && steady::now() < deadline) {
    auto got = ring.reader.try_read();
    ASSERT_TRUE(got.has_value()) << got.error().context;
    if (!got->has_value()) {
      ring.reader.wait_readable(5us, 10ms);
      continue;
    }
    ASSERT_TRUE(is_checked_term(**got, seq)) << "term " << seq << " is torn or out of order";
    ++seq;
  }
  writer.join();
  EXPECT_EQ(seq, kThreadedTerms);
}

} // namespace
} // namespace vigil::ipc
