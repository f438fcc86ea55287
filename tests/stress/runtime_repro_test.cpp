// SPDX-License-Identifier: Apache-2.0
// Runtime bugs found while writing the stress test and the walkthrough. A test marked
// RUNTIME BUG fails until the bug it names is fixed; the others guard fixed ones.
#include "vigil/runtime/runtime.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace vigil {
namespace {

using namespace std::chrono_literals;

task<> sleeper(context& self, pid report, timeout duration) {
  co_await self.sleep(duration);
  self.send(report, atoms::ok);
}

// RUNTIME BUG (timer_service.cpp, loop): `cv_.wait_until(lock, heap_.top().deadline)` passes
// a reference into the heap's vector. wait_until reads it again after the wait, by which
// time arm() on another thread may have pushed and reallocated the vector: ASan reports a
// heap-use-after-free in timer_service::loop. Any two processes sleeping at once can hit it
// (the walkthrough's dispatcher does on most runs). Fix: copy the deadline before waiting,
// `auto next = heap_.top().deadline; cv_.wait_until(lock, next);`.
//
// Each round uses a fresh runtime, since the vector only reallocates while it grows: the
// first sleeper's timer is the earliest, so the timer thread waits on it while the later
// (longer) sleeps grow the vector underneath it.
TEST(RuntimeRepro, ManyConcurrentSleepsKeepTheTimerQueueIntact) {
  constexpr int rounds = 10;
  constexpr int sleepers = 64;
  for (int round = 0; round < rounds; ++round) {
    runtime rt({.schedulers = 2});
    auto box = rt.make_mailbox();
    for (int i = 0; i < sleepers; ++i) {
      rt.spawn(sleeper, box->self(), timeout(5 + i));
    }
    for (int i = 0; i < sleepers; ++i) {
      ASSERT_TRUE(box->receive(10s)) << "round " << round << ": a sleeper never woke";
    }
  }
}

task<> idle(context& self) {
  const pattern never = pattern::tuple({atom("never")});
  co_await self.receive(never);
}

// Semantics 20: a process suspended in receive is reported as :waiting, as the blog's
// Process.info shows for an idle worker. Found as a runtime bug (the target answered the
// request after run() had stored `running`, so it always said :running); fixed in info.cpp
// while this file was written, and kept as a regression test.
TEST(RuntimeRepro, InfoReportsAProcessBlockedInReceiveAsWaiting) {
  runtime rt({.schedulers = 2});
  pid p = rt.spawn(idle);
  auto info = rt.info(p);
  for (int i = 0; i < 1000 && info && info->current_function.empty(); ++i) {
    std::this_thread::sleep_for(1ms);
    info = rt.info(p);
  }
  ASSERT_TRUE(info.has_value());
  ASSERT_FALSE(info->current_function.empty()) << "the process never reached its receive";
  EXPECT_EQ(info->status, process_status::waiting);
  rt.exit(p, atoms::kill);
}

} // namespace
} // namespace vigil
