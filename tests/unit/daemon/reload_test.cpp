// SPDX-License-Identifier: Apache-2.0
// Reloads of a running tree (live_reload.hpp): the plan, what it does to the children as
// `status` shows them, a step that fails, a file that does not validate, and a reload asked
// for while another runs. The tree is observed through the protocol only.
#include "vigil/runtime/context.hpp"

#include "daemon_fixture.hpp"
#include "eventually.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace vigil::daemon::test {
namespace {

std::string line(int id, std::string_view cmd, const json& args = json::object()) {
  return json{{"id", id}, {"cmd", cmd}, {"args", args}}.dump();
}

/// The plan as the protocol shows it: path -> action.
std::map<std::string, std::string> actions(const json& plan) {
  std::map<std::string, std::string> out;
  for (json step : plan) {
    out[step["path"]] = step["action"];
  }
  return out;
}

std::map<std::string, std::string> actions(const reload_result& r) {
  return actions(json::parse(plan_json(r.plan)));
}

std::vector<std::string> paths(const json& status_reply) {
  std::vector<std::string> out;
  for (const auto& row : rows_of(status_reply)) {
    out.push_back(row.value("path", ""));
  }
  return out;
}

constexpr std::string_view four_children = R"(
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "a"
kind = "echo"

[[supervisor.children]]
id = "b"
kind = "echo"

[[supervisor.children]]
id = "c"
kind = "echo"

[[supervisor.children]]
id = "e"
kind = "echo"
)";

/// a kept, b removed, d new (between a and c), c's args changed, e's shutdown changed.
constexpr std::string_view changed_children = R"(
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "a"
kind = "echo"

[[supervisor.children]]
id = "d"
kind = "echo"

[[supervisor.children]]
id = "c"
kind = "echo"
args = { delay = "1ms" }

[[supervisor.children]]
id = "e"
kind = "echo"
shutdown = "2s"
)";

class DaemonReload : public ::testing::Test {
public:
  daemon_fixture d{test_config(four_children)};
  session_client client{d};

  json status() { return client.call(line(1, "status")); }
};

TEST_F(DaemonReload, APlanAddsRemovesRestartsAndUpdatesChildrenInPlace) {
  const json before = status();
  d.write_config(test_config(changed_children));

  auto r = d.reload();
  ASSERT_TRUE(r.loaded) << r.errors;
  EXPECT_FALSE(r.busy);
  EXPECT_TRUE(r.applied);
  EXPECT_TRUE(r.failures.empty()) << r.failures.front();
  EXPECT_EQ(
      actions(r),
      (std::map<std::string, std::string>{
          {"root/b", "stop"}, {"root/c", "restart"}, {"root/d", "start"}, {"root/e", "update"}}));

  const json after = status();
  // The new child takes its place in the file's order; the removed one is gone.
  EXPECT_EQ(paths(after), (std::vector<std::string>{"root/a", "root/d", "root/c", "root/e"}));
  for (json row : rows_of(after)) {
    EXPECT_EQ(row["state"], "running") << row;
  }
  EXPECT_EQ(row_of(after, "root/a")["pid"], row_of(before, "root/a")["pid"]);
  EXPECT_EQ(row_of(after, "root/e")["pid"], row_of(before, "root/e")["pid"]);
  EXPECT_NE(row_of(after, "root/c")["pid"], row_of(before, "root/c")["pid"]);
  EXPECT_TRUE(row_of(after, "root/d")["pid"].is_string());
}

TEST_F(DaemonReload, TheReloadCommandAnswersWithThePlanApplied) {
  d.write_config(test_config(changed_children));
  auto r = client.call(line(2, "reload"));
  ASSERT_TRUE(r["ok"]) << r;
  EXPECT_EQ(r["result"]["applied"], true);
  EXPECT_FALSE(r["result"].contains("warnings")) << r;
  EXPECT_EQ(actions(r["result"]["plan"]).at("root/b"), "stop");
  for (json step : r["result"]["plan"]) {
    EXPECT_TRUE(step["reason"].is_string() && !step["reason"].get<std::string>().empty()) << step;
  }
}

TEST_F(DaemonReload, ADryRunPlansWithoutChangingTheTree) {
  const json before = status();
  d.write_config(test_config(changed_children));
  auto r = client.call(line(3, "reload", {{"dry_run", true}}));
  ASSERT_TRUE(r["ok"]) << r;
  EXPECT_EQ(r["result"]["applied"], false);
  EXPECT_EQ(actions(r["result"]["plan"]).at("root/d"), "start");
  const json after = status();
  EXPECT_EQ(paths(after), paths(before));
  EXPECT_EQ(row_of(after, "root/c")["pid"], row_of(before, "root/c")["pid"]);
}

TEST_F(DaemonReload, AFileThatDoesNotValidateChangesNothing) {
  const json before = status();
  d.write_config("[supervisor]\nstrategy = \"sideways\"\n");
  auto r = client.call(line(4, "reload"));
  ASSERT_TRUE(is_error(r, "failed")) << r;
  const std::string message = r["error"]["message"];
  EXPECT_NE(message.find("vigil.toml:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("strategy"), std::string::npos) << message;
  const json after = status();
  EXPECT_EQ(paths(after), paths(before));
  for (json row : rows_of(before)) {
    EXPECT_EQ(row_of(after, row["path"].get<std::string>())["pid"], row["pid"]) << row;
  }
}

TEST_F(DaemonReload, AStepThatFailsIsNamedAndTheOthersAreApplied) {
  // The new child registers under a name another process holds: its start fails.
  ASSERT_TRUE(d.rt().register_name(atom("taken_by_test"), d.box().self()));
  d.write_config(test_config(R"(
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "a"
kind = "echo"

[[supervisor.children]]
id = "d"
kind = "echo"
args = { name = "taken_by_test" }

[[supervisor.children]]
id = "f"
kind = "echo"
)"));
  auto r = client.call(line(5, "reload"));
  ASSERT_TRUE(r["ok"]) << r;
  EXPECT_EQ(r["result"]["applied"], true);
  ASSERT_EQ(r["result"]["warnings"].size(), 1U) << r;
  const std::string warning = r["result"]["warnings"][0];
  EXPECT_EQ(warning.rfind("start root/d: ", 0), 0U) << warning;

  const json after = status();
  EXPECT_EQ(row_of(after, "root/f")["state"], "running") << after;
  EXPECT_TRUE(row_of(after, "root/b").empty()) << after;
  // The root holds what it could not start, with the reason (docs/supervision.md).
  auto failed = row_of(after, "root/d");
  EXPECT_EQ(failed["state"], "failed") << failed;
  EXPECT_TRUE(failed["pid"].is_null()) << failed;
  EXPECT_TRUE(failed["reason"].is_string()) << failed;
}

/// A worker that, asked to stop, waits for :release before it goes: a reload that stops it
/// stays in progress until the test lets it finish.
struct gate {
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  pid process;

  pid who() {
    std::lock_guard lock(mutex);
    return process;
  }
};

task<> gate_worker(context& self, std::shared_ptr<gate> g) {
  self.trap_exit(true);
  {
    std::lock_guard lock(g->mutex);
    g->process = self.self();
  }
  for (;;) {
    auto m = co_await self.receive();
    if (m.message.is_tuple() && m.message.size() == 3 && m.message[0].is(atoms::exit)) {
      term reason = m.message[2];
      g->stopping.store(true);
      for (;;) {
        auto next = co_await self.receive();
        if (next.message.is(atom("release"))) {
          break;
        }
      }
      co_await self.exit(reason);
    }
  }
}

TEST(DaemonReloadBusy, ASecondReloadWhileOneRunsIsRefusedAndChangesNothing) {
  auto g = std::make_shared<gate>();
  daemon_fixture d(test_config(R"(
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "a"
kind = "echo"

[[supervisor.children]]
id = "slow_to_stop"
kind = "gate"
shutdown = "60s"
)"),
                   [g](workers::kind_registry& kinds) {
                     workers::kind k;
                     k.name = "gate";
                     k.doc = "stops when the test releases it";
                     k.start = [g](context& sup, const term& /*args*/) -> result<pid> {
                       return sup.spawn_link(gate_worker, g);
                     };
                     ASSERT_TRUE(kinds.add(std::move(k)));
                   });
  session_client client(d);
  d.write_config(test_config(R"(
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "a"
kind = "echo"
)"));
  auto first = d.start_reload();
  ASSERT_TRUE(vigil::test::eventually([&] { return g->stopping.load(); }));

  auto second = client.call(line(6, "reload"));
  EXPECT_TRUE(is_error(second, "failed")) << second;
  EXPECT_EQ(second["error"]["message"], "a reload is already in progress");
  EXPECT_TRUE(d.reload().busy);

  d.rt().send(g->who(), atom("release"));
  ASSERT_EQ(first.wait_for(hang_guard), std::future_status::ready);
  auto r = first.get();
  EXPECT_TRUE(r.applied);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(actions(r), (std::map<std::string, std::string>{{"root/slow_to_stop", "stop"}}));
  auto after = client.call(line(7, "status"));
  EXPECT_EQ(paths(after), std::vector<std::string>{"root/a"});
  // Once it is over, the next reload runs.
  EXPECT_FALSE(d.reload().busy);
}

} // namespace
} // namespace vigil::daemon::test
