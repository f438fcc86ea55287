// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/runtime/runtime.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

namespace vigil::test {

using namespace std::chrono_literals;

/// A runtime with two schedulers and a mailbox for the test thread, which plays the part
/// of iex: it spawns, sends and receives. Waits are bounded by events, with a generous
/// timeout only as a guard against a hang.
class runtime_test : public ::testing::Test {
public:
  static constexpr timeout guard = 10s;

  runtime rt{runtime_options{.schedulers = 2}};
  std::unique_ptr<mailbox> box = rt.make_mailbox();

  [[nodiscard]] pid me() const { return box->self(); }

  /// The next message, failing the test if none comes within the guard.
  term next() {
    auto r = box->receive(guard);
    EXPECT_TRUE(r) << "no message within the guard timeout";
    return r.message;
  }

  /// The next message matching `text` (pattern syntax).
  received next(const char* text) {
    auto p = pattern::parse(text);
    EXPECT_TRUE(p.has_value()) << text;
    auto r = box->receive(*p, guard);
    EXPECT_TRUE(r) << "no message matching " << text;
    return r;
  }

  /// True if no message arrives within `window` (a bound for "nothing happens").
  bool quiet(timeout window = 50ms) { return !box->receive(window); }

  /// Waits (bounded) until `p` is dead, by monitoring it.
  void await_death(pid p) {
    reference ref = box->ctx().monitor(p);
    auto down = box->receive(
        pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(), pattern::any()}),
        guard);
    EXPECT_TRUE(down) << "process did not die";
  }

  void TearDown() override {
    box.reset();
    rt.shutdown();
  }
};

} // namespace vigil::test
