// SPDX-License-Identifier: Apache-2.0
// A worker that sends faster than the daemon process it sends to reads: its sends wait in
// its own ring once that process is far behind, instead of growing the process's mailbox in
// vigild's memory without bound, and nothing is lost when the process catches up.
#include "os_fixture.hpp"

#include <cstdint>

namespace vigil::os::test {
namespace {

/// pump_hooks::default_max_waiting: how far behind a daemon process may fall before the
/// pump holds a worker's sends to it.
constexpr std::size_t max_waiting = 10'000;

class Backpressure : public os_test {};

bool is_request(const term& t) {
  return t.is_tuple() && t.size() == 2 && t[0].is_pid() && t[1].is_atom();
}

/// Leaves the integers sent to it waiting until told {from, :read}, which it answers with
/// :ok. From then on it reads them as they come, checking that they run 0, 1, 2, ... with no
/// gap, and answers each later {from, _} with {how many it read, whether they were in order}.
task<> late_reader(context& self) {
  auto told = co_await self.receive_if([](const term& t) { return is_request(t); });
  self.send(told.message[0].as_pid(), term(atoms::ok));
  std::int64_t next = 0;
  bool in_order = true;
  for (;;) {
    auto r = co_await self.receive();
    if (r.message.is_integer()) {
      in_order = in_order && r.message.as_integer() == next;
      ++next;
    } else if (is_request(r.message)) {
      self.send(r.message[0].as_pid(), vigil::make_tuple(next, in_order));
    }
  }
}

TEST_F(Backpressure, AWorkerFloodingAProcessThatDoesNotReadWaitsAndLosesNothing) {
  pid reader = rt.spawn(late_reader);
  pid flooder = start_linked(command("flood", {"flood", ""}));
  box->ctx().send(flooder, vigil::make_tuple(reader, atom("go")));

  auto held_back = [&] {
    auto info = svc().info(flooder);
    return info ? info->held_back : 0;
  };
  auto waiting = [&] {
    auto info = rt.info(reader); // handled by the reader: counts all that reached it
    return info ? info->message_queue_len : 0;
  };
  ASSERT_TRUE(eventually([&] { return held_back() >= 1; })) << "the flood was never held back";
  const std::size_t at_hold = waiting();
  EXPECT_GE(at_hold, max_waiting);
  // The pump looks again, backing off, and finds the reader as far behind each time: not
  // one more message reached it meanwhile.
  const auto holds = held_back();
  ASSERT_TRUE(eventually([&] { return held_back() >= holds + 3; }))
      << "the pump never looked again";
  EXPECT_EQ(waiting(), at_hold);

  // The reader catches up: the flood goes on, every integer there and in order.
  box->ctx().send(reader, vigil::make_tuple(me_pid(), atom("read")));
  ASSERT_TRUE(box->receive(atoms::ok, guard)) << "the reader never started";
  auto progress = [&] {
    box->ctx().send(reader, vigil::make_tuple(me_pid(), atom("count")));
    auto r = box->receive(pattern::tuple({pattern::any(), pattern::any()}), guard);
    EXPECT_TRUE(r) << "the reader did not answer";
    return r ? r.message : term();
  };
  ASSERT_TRUE(eventually([&] {
    term p = progress();
    return p.is_tuple() && p[0].as_integer() > static_cast<std::int64_t>(at_hold + max_waiting);
  })) << "the flood did not resume";
  EXPECT_EQ(progress()[1], term(true)) << "a message was lost or reordered";

  box->ctx().exit(flooder, atoms::kill);
  EXPECT_EQ(exit_reason(flooder), term(atoms::killed));
  box->ctx().exit(reader, atoms::kill);
}

// A worker that stops while a send of its waits: that send and all it had written after it
// reach the process, in order, as its exit does not wait for the process to catch up.
TEST_F(Backpressure, AWorkerStoppedWhileItsSendWaitsLosesNothingItWrote) {
  pid reader = rt.spawn(late_reader);
  pid flooder = start_linked(command("flood", {"flood", ""}));
  box->ctx().send(flooder, vigil::make_tuple(reader, atom("go")));
  auto waiting = [&] {
    auto info = rt.info(reader);
    return info ? info->message_queue_len : 0;
  };
  ASSERT_TRUE(eventually([&] {
    auto info = svc().info(flooder);
    return info && info->held_back >= 1;
  })) << "the flood was never held back";
  const std::size_t at_hold = waiting();

  // Stopped through its port, which ends once the reactor reports the child's exit, after
  // the pump drained its ring: all it wrote is in the reader's mailbox by then.
  box->ctx().exit(flooder, atoms::shutdown);
  EXPECT_EQ(exit_reason(flooder), term(atoms::shutdown));
  const std::size_t delivered = waiting();
  EXPECT_GT(delivered, at_hold) << "the held send was lost";

  box->ctx().send(reader, vigil::make_tuple(me_pid(), atom("read")));
  ASSERT_TRUE(box->receive(atoms::ok, guard)) << "the reader never started";
  term counted;
  ASSERT_TRUE(eventually([&] {
    box->ctx().send(reader, vigil::make_tuple(me_pid(), atom("count")));
    auto r = box->receive(pattern::tuple({pattern::any(), pattern::any()}), guard);
    counted = r ? r.message : term();
    return counted.is_tuple() && counted[0].as_integer() == static_cast<std::int64_t>(delivered);
  })) << "the reader read "
      << counted << " of " << delivered;
  EXPECT_EQ(counted[1], term(true)) << "a message was lost or reordered";
  box->ctx().exit(reader, atoms::kill);
}

// A send the worker may not make is refused whatever its target's length: were it held, a
// worker would stall on a daemon process it cannot reach, and learn from the stall whether
// that process is 10,000 messages behind.
TEST_F(Backpressure, ASendToAProcessTheWorkerMayNotReachIsRefusedNotHeld) {
  pid reader = rt.spawn(late_reader);
  opts.is_protected = [reader](pid p) { return p == reader; };
  for (std::size_t i = 0; i < max_waiting; ++i) {
    box->ctx().send(reader, term(static_cast<std::int64_t>(i)));
  }
  ASSERT_TRUE(eventually([&] {
    auto info = rt.info(reader);
    return info && info->message_queue_len >= max_waiting;
  }));
  pid flooder = start_linked(command("flood", {"flood", ""}));
  box->ctx().send(flooder, vigil::make_tuple(reader, atom("go")));

  auto refused = [&] {
    auto info = svc().info(flooder);
    return info ? info->refused : 0;
  };
  ASSERT_TRUE(eventually([&] { return refused() >= max_waiting; }))
      << "the worker's refused sends waited for a process it may not reach";
  auto info = svc().info(flooder);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->held_back, 0U);

  box->ctx().exit(flooder, atoms::kill);
  EXPECT_EQ(exit_reason(flooder), term(atoms::killed));
  box->ctx().exit(reader, atoms::kill);
}

} // namespace
} // namespace vigil::os::test
