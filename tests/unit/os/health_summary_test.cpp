// SPDX-License-Identifier: Apache-2.0
// The one line `status` shows for an OS child with checks (probe_report::summary), and which
// children have it at all.
#include "vigil/term/text.hpp"

#include "os_fixture.hpp"

namespace vigil::os::test {
namespace {

using supervision::probe_kind;

probe_report waiting_for_tcp() {
  probe_report r;
  r.checked = true;
  r.awaits_ready = true;
  r.ready_check = "tcp 127.0.0.1:6379";
  r.health_failures = 3;
  r.health_check = "http http://127.0.0.1:8080/";
  return r;
}

TEST(HealthSummary, AChildNotReadyYetSaysWhatItWaitsFor) {
  auto r = waiting_for_tcp();
  EXPECT_EQ(r.summary(), "waiting: tcp 127.0.0.1:6379");
  r.check = "tcp 127.0.0.1:6379";
  r.last_result = "connection refused";
  r.consecutive_failures = 4;
  EXPECT_EQ(r.summary(), "waiting: tcp 127.0.0.1:6379: connection refused");
  r.status_text = "Loading the dataset";
  EXPECT_EQ(r.summary(), "waiting: tcp 127.0.0.1:6379: connection refused (Loading the dataset)");
}

TEST(HealthSummary, AReadyChildIsHealthyUntilItsCheckFailsAndThenSaysHowOften) {
  auto r = waiting_for_tcp();
  r.ready = true;
  r.check = "tcp 127.0.0.1:6379";
  r.last_result = "ok";
  EXPECT_EQ(r.summary(), "ready") << "no health check has run yet";
  r.check = "http http://127.0.0.1:8080/";
  r.last_result = "ok";
  EXPECT_EQ(r.summary(), "healthy");
  r.last_result = "status 503";
  r.consecutive_failures = 2;
  EXPECT_EQ(r.summary(), "unhealthy 2/3: http http://127.0.0.1:8080/: status 503");
  r.health_failures = 0; // no health check: once ready, nothing more to say
  EXPECT_EQ(r.summary(), "ready");
}

class HealthOfChildren : public os_test {};

TEST_F(HealthOfChildren, OnlyAChildWithChecksIsMarkedChecked) {
  pid plain = start_linked(command("plain", {"quit-on-term", ""}));
  auto notify = command("notify", {"quit-on-term", ""});
  notify.ready.kind = probe_kind::notify;
  pid waiting = start_linked(notify);
  auto p = svc().info(plain);
  auto w = svc().info(waiting);
  ASSERT_TRUE(p && w);
  EXPECT_FALSE(p->health.checked);
  EXPECT_TRUE(w->health.checked);
  EXPECT_EQ(w->health.summary(), "waiting: notify READY=1");
  // info's map carries the same line.
  term info = w->to_term();
  EXPECT_NE(to_string(info).find("waiting: notify READY=1"), std::string::npos);
}

} // namespace
} // namespace vigil::os::test
