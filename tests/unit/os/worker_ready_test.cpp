// SPDX-License-Identifier: Apache-2.0
// Workers that say they are ready from their own code (docs/worker-sdk.md, "Readiness"): a
// vigil-worker once its kind has started, a command through the SDK's ready(); the
// supervisor hears {:"$vigil_ready", port, text} from the port as from a READY=1. What a
// worker sends is untrusted: only the exact shape counts, and only once.
#include "os_fixture.hpp"

namespace vigil::os::test {
namespace {

using supervision::probe_kind;

const atom ready_tag("$vigil_ready");

class WorkerReady : public os_test {
public:
  /// The status text of the child's {:"$vigil_ready", port, text}, waiting for it.
  std::optional<term> ready_text(pid port) {
    auto m = box->receive(pattern::tuple({ready_tag, term(port), pattern::bind("text")}), guard);
    if (!m) {
      return std::nullopt;
    }
    return m[0];
  }

  bool ready_now(pid port) {
    return static_cast<bool>(
        box->receive(pattern::tuple({ready_tag, term(port), pattern::any()}), timeout(0ms)));
  }

  probe_report health(pid port) {
    auto i = svc().info(port);
    return i ? i->health : probe_report{};
  }
};

TEST_F(WorkerReady, AProcessModeWorkerWithNotifyReadinessIsReadyOnceItsKindStarted) {
  auto spec = process("echo_ready", "echo");
  spec.ready.kind = probe_kind::notify;
  pid p = start_linked(spec);
  auto text = ready_text(p);
  ASSERT_TRUE(text) << "vigil-worker never said it was ready";
  EXPECT_EQ(*text, term(""));
  auto h = health(p);
  EXPECT_TRUE(h.ready);
  EXPECT_EQ(h.last_result, "ok");
  EXPECT_EQ(h.notify_ignored, 0U);
}

TEST_F(WorkerReady, AProcessModeWorkerStartedPlainlySaysNothingMore) {
  // Readiness `started`: the worker's ready frame is dropped without a sound or a count.
  pid p = start_linked(process("echo_plain", "echo"));
  ASSERT_TRUE(eventually([&] { return svc().info(p) && svc().info(p)->received >= 1; }));
  EXPECT_FALSE(ready_now(p));
  EXPECT_EQ(health(p).notify_ignored, 0U);
}

TEST_F(WorkerReady, ACommandSaysReadyThroughTheSdkOnceAndItsTextIsItsStatus) {
  auto spec = command("sdk_ready", {"sdk-ready", ""});
  spec.ready.kind = probe_kind::notify;
  pid p = start_linked(spec);
  auto text = ready_text(p);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, term("serving"));
  // The second ready() is ignored, and counted.
  ASSERT_TRUE(eventually([&] { return health(p).notify_ignored == 1; }));
  EXPECT_FALSE(ready_now(p)) << "a second ready() was forwarded";
  EXPECT_EQ(health(p).status_text, "serving");
}

TEST_F(WorkerReady, AReadyFrameOfTheWrongShapeBreaksTheChannel) {
  for (const char* how : {"number", "long"}) {
    auto spec = command(std::string("forger_") + how, {"forged-ready", how});
    spec.ready.kind = probe_kind::notify;
    pid p = start_linked(spec);
    term reason = exit_reason(p);
    ASSERT_TRUE(reason.is_tuple() && reason.size() == 2) << how << ": " << reason;
    EXPECT_EQ(reason[0], term(atom("channel_error"))) << how;
    EXPECT_FALSE(ready_now(p)) << how << ": a forged ready was forwarded";
  }
}

} // namespace
} // namespace vigil::os::test
