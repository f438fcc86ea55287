// SPDX-License-Identifier: Apache-2.0
// The index fed by a real supervisor_core on a fake clock (core_fixture.hpp), step by step as
// the supervisor process feeds it: after every event, each child's entry says what the core
// says (state, and time left until a due start), through group restarts, backoff, failed
// starts in the middle of a restart, stops and spec updates.
#include "../supervision/core_fixture.hpp"
#include "tree_index.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vigil::daemon {
namespace {

using namespace std::chrono_literals;
using supervision::child_state;
using supervision::max_restarts_action;
using supervision::request;
using supervision::restart_type;
using supervision::strategy;
using supervision::test::backoff;
using supervision::test::make_spec;
using supervision::test::worker;

/// A state as a number gtest can print (the enum grows: no switch to keep in step).
int state_number(child_state s) {
  return static_cast<int>(s);
}

class IndexAndCore : public supervision::test::core_test {
public:
  tree_index index;

  [[nodiscard]] std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  }

  /// Feeds the core's events to the index, as tree_events does; `specs`: the started
  /// children are all still held, so their specs may be read.
  void tell(bool specs = false) {
    for (auto& e : uut->take_events()) {
      if (!specs && e.what != supervision::child_event::kind::updated) {
        e.spec = nullptr; // a start's spec may be gone by now; the index copies it otherwise
      }
      index.apply(e, 0, now_ms());
    }
  }

  /// Every child the core holds stands in the index as in the core.
  void expect_agree(const std::string& when) {
    tell();
    for (const auto& c : uut->which_children(now)) {
      auto entry = index.at("root/" + c.id);
      if (!entry) {
        EXPECT_EQ(c.state, child_state::stopped) << when << ": root/" << c.id << " not indexed";
        continue;
      }
      auto seen = entry->info(now_ms());
      EXPECT_EQ(state_number(seen.state), state_number(c.state)) << when << ": root/" << c.id;
      EXPECT_EQ(seen.process, c.process) << when << ": root/" << c.id;
      if (c.state == child_state::backoff) {
        EXPECT_EQ(seen.backoff_left, c.backoff_left) << when << ": root/" << c.id;
      }
    }
  }
};

TEST_F(IndexAndCore, SiblingsWaitingInAOneForAllBackoffShowBackoff) {
  auto spec = make_spec(strategy::one_for_all, {worker("a"), worker("b"), worker("c")});
  spec.default_backoff = backoff(1s, 8s);
  make(spec);
  start();
  expect_agree("started");
  exit("b");
  EXPECT_EQ(state_of("a"), child_state::backoff);
  expect_agree("b crashed, the group waits");
  advance(400ms);
  expect_agree("part of the delay gone");
  advance(600ms);
  EXPECT_EQ(state_of("a"), child_state::running);
  expect_agree("the group restarted");
}

TEST_F(IndexAndCore, SiblingsWaitingInARestForOneBackoffShowBackoff) {
  auto spec = make_spec(strategy::rest_for_one, {worker("a"), worker("b"), worker("c")});
  spec.default_backoff = backoff(1s, 8s);
  make(spec);
  start();
  exit("b");
  EXPECT_EQ(state_of("c"), child_state::backoff);
  expect_agree("b crashed, c waits with it");
  // A sibling already waiting pushes the later one's restart back: both wait for the later.
  exit("a");
  expect_agree("a crashed while b and c wait");
  advance(8s);
  expect_agree("all restarted");
}

TEST_F(IndexAndCore, ASiblingStartThatFailsInTheMiddleOfARestartShowsTheCoresState) {
  make(make_spec(strategy::one_for_all, {worker("a"), worker("b"), worker("c")}));
  start();
  failures["b"] = 1;
  exit("a");
  EXPECT_EQ(state_of("b"), child_state::restarting);
  expect_agree("b failed to start, c waits behind it");
  advance(0ms);
  EXPECT_EQ(state_of("b"), child_state::running);
  expect_agree("the retry restarted the group");
}

TEST_F(IndexAndCore, AStartThatFailsAfterABackoffShowsTheCoresStateNotTheOldBackoff) {
  auto spec = make_spec(strategy::one_for_one, {worker("a"), worker("b")}, 10, 60s);
  spec.default_backoff = backoff(1s, 8s);
  make(spec);
  start();
  exit("a");
  expect_agree("a backs off");
  failures["a"] = 1;
  now += 1s;
  uut->timer(now); // one timer turn: the start fails, the retry is not yet taken
  drive();
  EXPECT_EQ(state_of("a"), child_state::restarting);
  expect_agree("a's start failed");
  advance(0ms);
  EXPECT_EQ(state_of("a"), child_state::backoff);
  expect_agree("the retry backs off again");
  advance(2s);
  expect_agree("a runs");
}

TEST_F(IndexAndCore, ABackoffWhoseStartIsInFlightShowsRestartingNotBackoff) {
  auto spec = make_spec(strategy::one_for_one, {worker("a"), worker("b")}, 10, 60s);
  spec.default_backoff = backoff(1s, 8s);
  make(spec);
  start();
  exit("a");
  EXPECT_EQ(state_of("a"), child_state::backoff);
  expect_agree("a backs off");
  now += 1s;
  uut->timer(now); // the delay is over: a's start is queued, not yet made
  EXPECT_EQ(state_of("a"), child_state::restarting);
  expect_agree("a's start is in flight");
  drive();
  EXPECT_EQ(state_of("a"), child_state::running);
  expect_agree("a runs again");
}

TEST_F(IndexAndCore, AStartThatKeepsFailingInARestartIsHeldAsFailedInBoth) {
  auto spec = make_spec(strategy::rest_for_one, {worker("a"), worker("b")}, 2, 60s);
  spec.on_max_restarts = max_restarts_action::hold;
  spec.hold_retry = 10s;
  spec.hold_retry_max = 10s;
  make(spec);
  start();
  failures["b"] = 100;
  exit("a");
  expect_agree("b failed to start");
  advance(0ms);
  EXPECT_EQ(state_of("b"), child_state::failed);
  expect_agree("b is held");
}

TEST_F(IndexAndCore, AnEscalationDropsThePendingRestartsInBoth) {
  auto spec = make_spec(strategy::one_for_all, {worker("a"), worker("b"), worker("c")}, 1, 60s);
  make(spec);
  start();
  failures["c"] = 100;
  exit("a");
  expect_agree("c failed to start");
  advance(0ms);
  EXPECT_TRUE(uut->exiting());
  expect_agree("the supervisor gave up");
}

TEST_F(IndexAndCore, StoppingAChildThatWaitsInBackoffShowsItStopped) {
  auto spec = make_spec(strategy::one_for_one, {worker("a"), worker("b")});
  spec.default_backoff = backoff(1s, 8s);
  make(spec);
  start();
  exit("a");
  request req;
  req.what = request::kind::terminate_child;
  req.id = "a";
  call(req);
  EXPECT_EQ(state_of("a"), child_state::stopped);
  expect_agree("a was stopped in its backoff");
}

TEST_F(IndexAndCore, AnUpdatedSpecReplacesTheOneTheChildStartedWith) {
  make(make_spec(strategy::one_for_one, {worker("a"), worker("b")}));
  start();
  tell(true);
  ASSERT_TRUE(index.at("root/a")->spec);
  EXPECT_EQ(index.at("root/a")->spec->kind, "test");
  auto spec = worker("a");
  spec.kind = "updated";
  request req;
  req.what = request::kind::update_child;
  req.id = "a";
  req.spec = spec;
  call(req);
  tell();
  auto entry = index.at("root/a");
  ASSERT_TRUE(entry);
  ASSERT_TRUE(entry->spec);
  EXPECT_EQ(entry->spec->kind, "updated");
  EXPECT_EQ(entry->process, pids["a"]) << "its process is left alone";
}

} // namespace
} // namespace vigil::daemon
