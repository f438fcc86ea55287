// SPDX-License-Identifier: Apache-2.0
#include "vigil/term/atom.hpp"

#include "config_test_util.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

namespace vigil::config {
namespace {

using namespace std::chrono_literals;
using namespace supervision;
using test::load_errors;
using test::load_ok;

term empty_map() {
  return term::map(std::span<const std::pair<term, term>>{});
}

TEST(LoadConfig, LoadsTheDemo) {
  auto loaded = load_config(test::source_dir() / "configs/demo.toml");
  ASSERT_TRUE(loaded) << to_string(loaded.error());
  const auto& root = loaded->root;
  ASSERT_EQ(root.children.size(), 3U);
  EXPECT_EQ(root.children[0].id, "echo");
  EXPECT_EQ(root.children[0].kind, "echo");
  EXPECT_EQ(root.children[0].args, empty_map());
  EXPECT_EQ(root.children[1].args, term::map({{atom("delay"), 1000}}));
  const auto& jobs = root.children[2];
  ASSERT_EQ(jobs.type, child_type::supervisor);
  ASSERT_NE(jobs.supervisor, nullptr);
  EXPECT_EQ(jobs.supervisor->name, "jobs");
  ASSERT_EQ(jobs.supervisor->children.size(), 1U);
  EXPECT_EQ(jobs.supervisor->children[0].kind, "dispatcher");
}

TEST(LoadConfig, LoadsTheAnnotatedExample) {
  auto loaded = load_config(test::source_dir() / "configs/example.toml");
  ASSERT_TRUE(loaded) << to_string(loaded.error());
  EXPECT_EQ(loaded->root.children.size(), 3U);
}

TEST(LoadConfig, FillsInTheDefaults) {
  auto tree = load_ok(R"(
[[supervisor.children]]
id = "w"
kind = "echo"

[[supervisor.children]]
id = "s"
type = "supervisor"
)");
  EXPECT_EQ(tree.daemon, daemon_options{});
  EXPECT_EQ(tree.root.name, "root");
  EXPECT_EQ(tree.root.how, strategy::one_for_one);
  EXPECT_EQ(tree.root.intensity, 3U);
  EXPECT_EQ(tree.root.period, 5s);
  const auto& w = tree.root.children.at(0);
  EXPECT_EQ(w.restart, restart_type::permanent);
  EXPECT_EQ(w.shutdown, shutdown_policy::after(5s));
  EXPECT_EQ(w.mode, "inprocess");
  EXPECT_EQ(w.args, empty_map());
  EXPECT_FALSE(w.backoff.has_value());
  const auto& s = tree.root.children.at(1);
  EXPECT_EQ(s.shutdown, shutdown_policy::infinity());
  ASSERT_NE(s.supervisor, nullptr);
  EXPECT_TRUE(s.supervisor->children.empty());
  // Failure domains: the root holds, a nested supervisor escalates as in OTP, and crash
  // loops back off in both (docs/supervision.md).
  EXPECT_EQ(tree.root.on_max_restarts, supervision::max_restarts_action::hold);
  EXPECT_EQ(tree.root.hold_retry, 10s);
  EXPECT_EQ(tree.root.hold_retry_max, 5min);
  ASSERT_TRUE(tree.root.default_backoff.has_value());
  EXPECT_EQ(tree.root.default_backoff->immediate, 1U);
  EXPECT_EQ(tree.root.default_backoff->initial, 1s);
  EXPECT_EQ(s.supervisor->on_max_restarts, supervision::max_restarts_action::escalate);
  EXPECT_TRUE(s.supervisor->default_backoff.has_value());
}

TEST(LoadConfig, ReadsTheFailureDomainOptions) {
  auto tree = load_ok(R"(
[supervisor]
on_max_restarts = "escalate"
hold_retry = "0s"
hold_retry_max = "1m"
crash_backoff = false

[[supervisor.children]]
id = "s"
type = "supervisor"
on_max_restarts = "hold"
hold_retry = "250ms"

[[supervisor.children]]
id = "w"
kind = "echo"
backoff = { immediate = 2 }
)");
  EXPECT_EQ(tree.root.on_max_restarts, supervision::max_restarts_action::escalate);
  EXPECT_EQ(tree.root.hold_retry, 0ms);
  EXPECT_EQ(tree.root.hold_retry_max, 1min);
  EXPECT_FALSE(tree.root.default_backoff.has_value());
  const auto& s = *tree.root.children.at(0).supervisor;
  EXPECT_EQ(s.on_max_restarts, supervision::max_restarts_action::hold);
  EXPECT_EQ(s.hold_retry, 250ms);
  EXPECT_EQ(tree.root.children.at(1).backoff->immediate, 2U);
}

TEST(LoadConfig, RefusesAnUnknownOnMaxRestarts) {
  auto errors = load_errors("[supervisor]\non_max_restarts = \"give_up\"\n");
  EXPECT_EQ(errors.rfind("vigil.toml:2:19: supervisor.on_max_restarts: expected ", 0), 0U)
      << errors;
  EXPECT_NE(errors.find("escalate"), std::string::npos) << errors;
  EXPECT_NE(errors.find("hold"), std::string::npos) << errors;
}

TEST(LoadConfig, ReadsAnOsProcessChild) {
  auto tree = load_ok(R"(
[[supervisor.children]]
id = "web"
command = ["python3", "-m", "http.server"]
env = { PORT = "8080", LANG = "C" }
cwd = "/srv/www"
umask = 0o027
user = "www-data"
group = "www-data"
stop_signal = "int"
shutdown = "brutal_kill"
restart = "transient"
)");
  const auto& c = tree.root.children.at(0);
  EXPECT_EQ(c.mode, "command");
  EXPECT_EQ(c.os.command, (std::vector<std::string>{"python3", "-m", "http.server"}));
  EXPECT_EQ(c.os.env, (std::map<std::string, std::string>{{"LANG", "C"}, {"PORT", "8080"}}));
  EXPECT_EQ(c.os.cwd, "/srv/www");
  EXPECT_EQ(c.os.umask, 027U);
  EXPECT_EQ(c.os.user, "www-data");
  EXPECT_EQ(c.os.stop_signal, "SIGINT");
  EXPECT_EQ(c.shutdown, shutdown_policy::brutal_kill());
  EXPECT_EQ(c.restart, restart_type::transient);
  EXPECT_TRUE(c.args == term());
}

TEST(LoadConfig, ReadsReadinessHealthAndExitCodes) {
  auto tree = load_ok(R"(
[[supervisor.children]]
id = "db"
command = ["redis-server"]
ready = { tcp = "127.0.0.1:6379", interval = "200ms", timeout = "1s" }
ready_timeout = "30s"
health = { http = "http://127.0.0.1:8080/healthz", status = 204, interval = "10s", failures = 5 }
success_exit_codes = [0, 3]
no_restart_exit_codes = [64]

[[supervisor.children]]
id = "app"
kind = "echo"
ready = "notify"
watchdog = "10s"
)");
  const auto& db = tree.root.children.at(0);
  EXPECT_EQ(db.ready.kind, probe_kind::tcp);
  EXPECT_EQ(db.ready.target, "127.0.0.1:6379");
  EXPECT_EQ(db.ready.interval, 200ms);
  EXPECT_EQ(db.ready.timeout, 1s);
  EXPECT_EQ(db.ready_timeout, 30s);
  EXPECT_EQ(db.health.kind, probe_kind::http);
  EXPECT_EQ(db.health.status, 204U);
  EXPECT_EQ(db.health.failures, 5U);
  EXPECT_EQ(db.os.success_exit_codes, (std::vector<std::int64_t>{0, 3}));
  EXPECT_EQ(db.os.no_restart_exit_codes, (std::vector<std::int64_t>{64}));
  const auto& app = tree.root.children.at(1);
  EXPECT_EQ(app.ready.kind, probe_kind::notify);
  EXPECT_EQ(app.watchdog, 10s);
}

TEST(LoadConfig, ALogReadinessRegexIsCheckedAsTheChildWillRunIt) {
  // The check runs in one pass without backtracking (log_regex.hpp), so a back-reference,
  // which needs backtracking, is refused at load rather than at the child's start.
  auto ok = load_ok(R"([[supervisor.children]]
id = "web"
command = ["true"]
ready = { log = "^listening on (port|socket) \\d+" }
)");
  EXPECT_EQ(ok.root.children.at(0).ready.kind, probe_kind::log);
  auto errors = load_errors(R"([[supervisor.children]]
id = "web"
command = ["true"]
ready = { log = "(a)\\1" }
)");
  EXPECT_NE(errors.find("ready.log: expected a regular expression"), std::string::npos) << errors;
  // So is a lookahead, which makes the pass quadratic in the line again.
  errors = load_errors(R"([[supervisor.children]]
id = "web"
command = ["true"]
ready = { log = "(?=.*port)listening" }
)");
  EXPECT_NE(errors.find("ready.log: expected a regular expression"), std::string::npos) << errors;
  EXPECT_NE(errors.find("lookahead"), std::string::npos) << errors;
}

TEST(LoadConfig, ReadsResourceLimitsAsOneValueOrSoftAndHard) {
  auto tree = load_ok(R"(
[[supervisor.children]]
id = "web"
command = ["true"]
rlimits = { nofile = 1024, core = 0, stack = [8388608, "unlimited"], cpu = "infinity" }
)");
  const auto& limits = tree.root.children.at(0).os.rlimits;
  constexpr auto unlimited = resource_limit::unlimited;
  EXPECT_EQ(limits, (std::map<std::string, resource_limit>{{"core", {0, 0}},
                                                           {"cpu", {unlimited, unlimited}},
                                                           {"nofile", {1024, 1024}},
                                                           {"stack", {8388608, unlimited}}}));
  EXPECT_NE(describe(tree).find(" rlimits.core=0 rlimits.cpu=unlimited rlimits.nofile=1024 "
                                "rlimits.stack=8388608:unlimited stop_signal=SIGTERM"),
            std::string::npos)
      << describe(tree);
}

TEST(LoadConfig, ReadsCgroupLimitsAsSystemdWritesThem) {
  auto tree = load_ok(R"([[supervisor.children]]
id = "web"
command = ["true"]
limits = { memory = "512M", memory_high = 419430400, cpus = 1.5, pids = 100 }
)");
  const auto& limits = tree.root.children.at(0).os.limits;
  EXPECT_EQ(limits.memory, 512ULL << 20);
  EXPECT_EQ(limits.memory_high, 419430400U);
  EXPECT_EQ(limits.cpus, 1.5);
  EXPECT_EQ(limits.pids, 100U);
  EXPECT_NE(describe(tree).find(" limits={memory=536870912 memory_high=419430400 cpus=1.5 "
                                "pids=100}"),
            std::string::npos)
      << describe(tree);
  auto k = load_ok(R"([[supervisor.children]]
id = "web"
command = ["true"]
limits = { memory = "4K", memory_high = "2g", cpus = 2 }
)");
  EXPECT_EQ(k.root.children.at(0).os.limits.memory, 4096U);
  EXPECT_EQ(k.root.children.at(0).os.limits.memory_high, 2ULL << 30);
  EXPECT_EQ(k.root.children.at(0).os.limits.cpus, 2.0);
  EXPECT_FALSE(k.root.children.at(0).os.limits.pids);
}

TEST(LoadConfig, ReadsAChildsOwnPidsLimitOfInfinityAsNone) {
  auto tree = load_ok(R"([[supervisor.children]]
id = "web"
command = ["true"]
limits = { pids = "infinity" }
)");
  EXPECT_EQ(tree.root.children.at(0).os.limits.pids, resource_limit::unlimited);
  EXPECT_NE(describe(tree).find(" limits={pids=infinity}"), std::string::npos) << describe(tree);
  auto errors = load_errors(R"([[supervisor.children]]
id = "web"
command = ["true"]
limits = { pids = "none" }
)");
  EXPECT_EQ(errors, "vigil.toml:4:19: supervisor.children[0].limits.pids: expected a number of "
                    "processes and threads from 1, or \"infinity\", got \"none\"\n");
}

TEST(LoadConfig, ReadsTheDefaultPidsLimitAsTasksAPercentageOrNone) {
  EXPECT_EQ(load_ok("").daemon.default_pids, (pids_default{.tasks = 0, .percent = 15}));
  EXPECT_EQ(load_ok("[daemon]\ndefault_pids = 32\n").daemon.default_pids,
            (pids_default{.tasks = 32, .percent = 0}));
  EXPECT_EQ(load_ok("[daemon]\ndefault_pids = \"40%\"\n").daemon.default_pids,
            (pids_default{.tasks = 0, .percent = 40}));
  EXPECT_EQ(load_ok("[daemon]\ndefault_pids = \"100%\"\n").daemon.default_pids,
            (pids_default{.tasks = 0, .percent = 100}));
  pids_default none{.tasks = 0, .percent = 0};
  EXPECT_EQ(load_ok("[daemon]\ndefault_pids = \"infinity\"\n").daemon.default_pids, none);
  EXPECT_EQ(load_ok("[daemon]\ndefault_pids = 0\n").daemon.default_pids, none);
}

TEST(LoadConfig, RejectsAMalformedDefaultPidsLimitWithItsPlace) {
  const std::string expected = "expected a number of tasks from 1, a percentage of the host's "
                               "from 1% to 100% such as \"15%\", or \"infinity\", got ";
  for (const auto& [text, got] :
       std::vector<std::pair<std::string, std::string>>{{"-1", "-1"},
                                                        {"\"0%\"", "\"0%\""},
                                                        {"\"101%\"", "\"101%\""},
                                                        {"\"1.5%\"", "\"1.5%\""},
                                                        {"\"15 %\"", "\"15 %\""},
                                                        {"\"%\"", "\"%\""},
                                                        {"\"32\"", "\"32\""},
                                                        {"\"lots\"", "\"lots\""},
                                                        {"1.5", "1.5"},
                                                        {"[32]", "an array of integers"}}) {
    EXPECT_EQ(load_errors("[daemon]\nlog_level = \"info\"\ndefault_pids = " + text + "\n"),
              "vigil.toml:3:16: daemon.default_pids: " + expected + got + "\n")
        << text;
  }
}

TEST(LoadConfig, RejectsUnknownOrMalformedResourceLimitsWithTheirPlace) {
  auto errors = load_errors(R"([[supervisor.children]]
id = "a"
command = ["true"]
rlimits = { nofiles = 10 }

[[supervisor.children]]
id = "b"
command = ["true"]
rlimits = { nofile = -1 }

[[supervisor.children]]
id = "c"
command = ["true"]
rlimits = { nofile = [10, 5] }
)");
  EXPECT_EQ(errors,
            "vigil.toml:4:23: supervisor.children[0].rlimits.nofiles: expected a resource limit, "
            "one of as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, "
            "rss, rtprio, rttime, sigpending, stack, got \"nofiles\" (did you mean \"nofile\"?)\n"
            "vigil.toml:9:22: supervisor.children[1].rlimits.nofile: expected a limit: a "
            "non-negative integer, \"unlimited\", or [soft, hard] of those, got -1\n"
            "vigil.toml:14:22: supervisor.children[2].rlimits.nofile: expected a soft limit no "
            "higher than the hard one, got soft 10 and hard 5\n");
}

TEST(LoadConfig, RlimitsOnAnInProcessWorkerIsAnError) {
  auto errors = load_errors(R"([[supervisor.children]]
id = "a"
kind = "echo"
rlimits = { nofile = 10 }
)");
  EXPECT_EQ(errors, "vigil.toml:4:1: supervisor.children[0].rlimits: only applies to a worker "
                    "run as an OS process: set mode = \"process\", or use command\n");
}

TEST(LoadConfig, ReadsTheLogDirectory) {
  auto tree = load_ok("[daemon]\nlog_dir = \"/var/log/vigil\"\n");
  EXPECT_EQ(tree.daemon.log_dir, "/var/log/vigil");
  EXPECT_NE(describe(tree).find(" log_dir=/var/log/vigil\n"), std::string::npos);
  EXPECT_FALSE(load_config_string("[daemon]\nlog_dir = \"logs\"\n", "vigil.toml"));
}

TEST(LoadConfig, ReadsAUmaskWrittenAsAString) {
  auto tree = load_ok(R"(
[[supervisor.children]]
id = "w"
kind = "echo"
mode = "process"
umask = "0022"
)");
  EXPECT_EQ(tree.root.children.at(0).os.umask, 022U);
}

TEST(LoadConfig, ReadsArgsAsATermMapWithAtomKeys) {
  auto tree = load_ok(R"(
[[supervisor.children]]
id = "w"
kind = "echo"
args = { delay = 200, name = "x", ratio = 0.5, on = true, list = [1, "a"], nested = { k = 1 } }
)");
  term expected = term::map({
      {atom("delay"), 200},
      {atom("name"), "x"},
      {atom("ratio"), 0.5},
      {atom("on"), true},
      {atom("list"), term::list({1, "a"})},
      {atom("nested"), term::map({{atom("k"), 1}})},
  });
  EXPECT_EQ(tree.root.children.at(0).args, expected);
}

TEST(LoadConfig, ReadsBackoffAndSupervisorFlags) {
  auto tree = load_ok(R"(
[supervisor]
strategy = "one_for_all"
intensity = 10
period = "1m"
auto_shutdown = "any_significant"

[[supervisor.children]]
id = "w"
kind = "echo"
restart = "temporary"
significant = true
backoff = { initial = "1s", max = "1m", multiplier = 3, jitter = 0.0, reset_after = "5m" }
)");
  EXPECT_EQ(tree.root.how, strategy::one_for_all);
  EXPECT_EQ(tree.root.intensity, 10U);
  EXPECT_EQ(tree.root.period, 1min);
  EXPECT_EQ(tree.root.auto_shutdown, auto_shutdown::any_significant);
  const auto& w = tree.root.children.at(0);
  EXPECT_TRUE(w.significant);
  ASSERT_TRUE(w.backoff.has_value());
  EXPECT_EQ(*w.backoff, (backoff_policy{1s, 1min, 3.0, 0.0, 5min}));
}

TEST(LoadConfig, ReadsASimpleOneForOneTemplate) {
  auto tree = load_ok(R"(
[supervisor]
strategy = "simple_one_for_one"
max_children = 100

[[supervisor.children]]
id = "request"
kind = "echo"
restart = "temporary"
)");
  EXPECT_EQ(tree.root.how, strategy::simple_one_for_one);
  EXPECT_EQ(tree.root.max_children, 100U);
}

TEST(LoadConfig, ResolvesRelativePluginsAgainstTheFilesDirectory) {
  auto loaded = load_config_string(R"(
[daemon]
plugins = ["kinds/extra.so", "/opt/vigil/abs.so"]
allowed_users = ["alice", "1001"]
)",
                                   "/etc/vigil/vigil.toml");
  ASSERT_TRUE(loaded) << to_string(loaded.error());
  EXPECT_EQ(loaded->daemon.plugins,
            (std::vector<std::string>{"/etc/vigil/kinds/extra.so", "/opt/vigil/abs.so"}));
  EXPECT_EQ(loaded->daemon.allowed_users, (std::vector<std::string>{"alice", "1001"}));
}

TEST(LoadConfig, RemembersWhereEachChildWasWritten) {
  auto tree = load_ok(R"([supervisor]

[[supervisor.children]]
id = "a"
kind = "echo"

[[supervisor.children]]
id = "b"
type = "supervisor"

  [[supervisor.children.children]]
  id = "c"
  kind = "echo"
)");
  EXPECT_EQ(tree.root.where, (source_location{"vigil.toml", 1, 1}));
  EXPECT_EQ(tree.root.children.at(0).where, (source_location{"vigil.toml", 3, 1}));
  EXPECT_EQ(tree.root.children.at(1).supervisor->children.at(0).where,
            (source_location{"vigil.toml", 11, 3}));
}

TEST(LoadConfig, NestsSupervisorsSeveralLevelsDeep) {
  auto tree = load_ok(R"(
[[supervisor.children]]
id = "a"
type = "supervisor"
[[supervisor.children.children]]
id = "b"
type = "supervisor"
strategy = "rest_for_one"
[[supervisor.children.children.children]]
id = "c"
kind = "echo"
)");
  const auto& b = tree.root.children.at(0).supervisor->children.at(0);
  EXPECT_EQ(b.supervisor->how, strategy::rest_for_one);
  EXPECT_EQ(b.supervisor->children.at(0).id, "c");
}

TEST(LoadConfig, ReportsEveryErrorInFileOrder) {
  EXPECT_EQ(load_errors(R"([supervisor]
strategy = "one_for_none"
intensity = -1

[[supervisor.children]]
id = "a"
kind = "echo"
restart = "sometimes"
)"),
            "vigil.toml:2:12: supervisor.strategy: expected one of one_for_one, one_for_all, "
            "rest_for_one, simple_one_for_one, got \"one_for_none\" (did you mean "
            "\"one_for_one\"?)\n"
            "vigil.toml:3:13: supervisor.intensity: expected an integer from 0 to 1000000, got -1\n"
            "vigil.toml:8:11: supervisor.children[0].restart: expected one of permanent, "
            "transient, temporary, got \"sometimes\"\n");
}

TEST(LoadConfig, ReportsAMissingFile) {
  auto loaded = load_config("/nonexistent/vigil.toml");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(to_string(loaded.error()),
            "/nonexistent/vigil.toml: unable to open: No such file or directory\n");
}

TEST(LoadConfig, RefusesADirectory) {
  auto loaded = load_config(test::source_dir() / "configs");
  ASSERT_FALSE(loaded);
  EXPECT_NE(to_string(loaded.error()).find("not a regular file"), std::string::npos);
}

TEST(LoadConfig, RootRefusesAFileOthersControl) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "only root refuses files that others control";
  }
  char dir_template[] = "/tmp/vigil_config_test_XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  std::filesystem::path dir = dir_template;
  auto path = dir / "vigil.toml";
  {
    std::ofstream out(path);
    out << "[supervisor]\n";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto fine = load_config(path);
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  auto world = load_config(path);
  auto relaxed = load_config(path, false);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(::chown(path.c_str(), 65534, 0), 0);
  auto other_owner = load_config(path);
  ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  auto open_dir = load_config(path);
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(fine);
  EXPECT_TRUE(relaxed);
  ASSERT_FALSE(world);
  EXPECT_EQ(to_string(world.error()),
            path.string() + ": refusing to load as root: the file " + path.string()
                + " is writable by every user (mode 0666) (root runs what this file says; "
                  "vigild --insecure-paths allows it)\n");
  ASSERT_FALSE(other_owner);
  EXPECT_NE(to_string(other_owner.error()).find("is owned by uid 65534, not by root"),
            std::string::npos);
  ASSERT_FALSE(open_dir);
  EXPECT_NE(to_string(open_dir.error())
                .find("the directory " + dir.string() + " is writable by every user (mode 0777)"),
            std::string::npos);
}

// An implicit [supervisor] table sits where its first child is written: line 2 here.
TEST(Describe, PrintsTheTreeWithEveryEffectiveValue) {
  auto tree = load_ok(R"(
[[supervisor.children]]
id = "echo"
kind = "echo"
args = { delay = 200 }

[[supervisor.children]]
id = "jobs"
type = "supervisor"
strategy = "one_for_all"

  [[supervisor.children.children]]
  id = "sleeper"
  command = ["sleep", "10"]
  backoff = {}
)");
  EXPECT_EQ(describe(tree),
            "daemon socket=(default) log_level=info allowed_users=[] allowed_groups=[] "
            "plugins=[]\n"
            "supervisor root strategy=one_for_one intensity=3 period=5s auto_shutdown=never "
            "on_max_restarts=hold hold_retry=10s hold_retry_max=5m  (vigil.toml:2)\n"
            "  worker echo kind=echo mode=inprocess args=%{delay: 200} restart=permanent "
            "shutdown=5s  (vigil.toml:2)\n"
            "  supervisor jobs strategy=one_for_all intensity=3 period=5s auto_shutdown=never "
            "on_max_restarts=escalate restart=permanent shutdown=infinity  (vigil.toml:7)\n"
            "    worker sleeper command=[\"sleep\", \"10\"] stop_signal=SIGTERM "
            "restart=permanent shutdown=5s backoff={initial=100ms max=30s multiplier=2 "
            "jitter=0.1 reset_after=10s}  (vigil.toml:12)\n");
}

} // namespace
} // namespace vigil::config
