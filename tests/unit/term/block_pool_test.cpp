// SPDX-License-Identifier: Apache-2.0
// Term heap blocks come from a pool (block_pool.hpp): terms stay intact across block reuse
// and threads, messaging between two threads stops taking memory once warm, and a thread
// that frees what others built keeps only a bounded cache.
#include "vigil/term/block_pool.hpp"

#include "vigil/term/term.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vigil {
namespace {

using namespace vigil::literals;
namespace pool = detail::term_pool;

term numbered_tuple(std::size_t n, std::int64_t base) {
  std::vector<term> items;
  for (std::size_t i = 0; i < n; ++i) {
    items.emplace_back(base + static_cast<std::int64_t>(i));
  }
  return term::tuple(items);
}

void expect_numbered_tuple(const term& t, std::size_t n, std::int64_t base) {
  ASSERT_EQ(t.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(t[i].as_integer(), base + static_cast<std::int64_t>(i));
  }
}

TEST(TermPool, TermsKeepTheirContentsWhenBlocksOfEverySizeAreReused) {
  for (std::int64_t round = 0; round < 3; ++round) {
    std::vector<term> tuples;
    std::vector<term> strings;
    for (std::size_t n = 1; n <= 40; ++n) {
      tuples.push_back(numbered_tuple(n, round * 1000));
      strings.emplace_back(std::string(15 + n * 7, static_cast<char>('a' + n % 26)));
    }
    term m = term::map({{"k", tuples[3]}, {round, strings[30]}});
    for (std::size_t n = 1; n <= 40; ++n) {
      expect_numbered_tuple(tuples[n - 1], n, round * 1000);
      EXPECT_EQ(strings[n - 1].as_string(),
                std::string(15 + n * 7, static_cast<char>('a' + n % 26)));
    }
    ASSERT_NE(m.find(term("k")), nullptr);
    expect_numbered_tuple(*m.find(term("k")), 4, round * 1000);
  }
}

TEST(TermPool, TermsOutliveTheThreadThatBuiltThem) {
  std::vector<term> built;
  std::thread builder([&built] {
    for (std::int64_t i = 0; i < 1000; ++i) {
      built.push_back(term::tuple({"msg"_a, i, "a string too long to be stored inline"}));
    }
  });
  builder.join();
  for (std::int64_t i = 0; i < 1000; ++i) {
    ASSERT_EQ(built[i][1].as_integer(), i);
    EXPECT_EQ(built[i][2].as_string(), "a string too long to be stored inline");
  }
}

/// Hands batches of terms from one thread to another, as a sender and a receiver on two
/// scheduler threads do.
class handoff {
public:
  void put(std::vector<term> batch) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return !slot_; });
    slot_ = std::move(batch);
    ready_.notify_all();
  }

  std::vector<term> take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return slot_.has_value(); });
    auto batch = std::move(*slot_);
    slot_.reset();
    ready_.notify_all();
    return batch;
  }

private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<std::vector<term>> slot_;
};

TEST(TermPool, MessagingBetweenTwoThreadsTakesNoNewMemoryOnceWarm) {
  if (!pool::enabled()) {
    GTEST_SKIP() << "the pool is off under AddressSanitizer";
  }
  // Lockstep, so that the number of messages alive at once, and with it the memory the
  // pool must have, is the same every round whatever the two threads' timing.
  constexpr int warm_rounds = 10;
  constexpr int rounds = 40;
  constexpr std::int64_t per_round = 2000;
  handoff to_receiver;
  handoff freed;
  std::thread receiver([&] {
    for (int r = 0; r < rounds; ++r) {
      auto batch = to_receiver.take();
      std::int64_t sum = 0;
      for (const auto& msg : batch) {
        sum += msg[1].as_integer();
      }
      EXPECT_EQ(sum, per_round * (per_round - 1) / 2);
      batch.clear(); // frees every message on this thread
      freed.put({});
    }
  });
  std::size_t after_warm_up = 0;
  for (int r = 0; r < rounds; ++r) {
    if (r == warm_rounds) {
      after_warm_up = pool::blocks_from_system();
    }
    std::vector<term> batch;
    batch.reserve(per_round);
    for (std::int64_t i = 0; i < per_round; ++i) {
      batch.push_back(term::tuple({"msg"_a, i}));
    }
    to_receiver.put(std::move(batch));
    freed.take();
  }
  receiver.join();
  EXPECT_EQ(pool::blocks_from_system(), after_warm_up);
}

TEST(TermPool, AThreadThatFreesWhatOthersBuiltKeepsABoundedCache) {
  std::vector<term> built;
  for (std::int64_t i = 0; i < 20'000; ++i) {
    built.push_back(term::tuple({"msg"_a, i}));
  }
  std::size_t cached = 0;
  std::thread freer([&] {
    built.clear();
    cached = pool::blocks_cached_by_this_thread();
  });
  freer.join();
  EXPECT_LE(cached, pool::max_cached_per_class);
}

} // namespace
} // namespace vigil
