// SPDX-License-Identifier: Apache-2.0
// The checks beyond the file's text (config::checks): each problem a hook reports lands at
// the option it concerns, with its severity, and every one is reported, not just the first.
#include "vigil/term/atom.hpp"

#include "config_test_util.hpp"

#include <gtest/gtest.h>

#include <set>

namespace vigil::config {
namespace {

/// Hooks that know the kind "echo" (argument `delay`, an integer here) and the plugin
/// "/p/good.so", the program "sh", the user "alice" and the group "staff".
struct fake_host {
  std::vector<std::string> loaded;
  std::vector<std::string> kinds_checked;

  checks make(severity host = severity::warning) {
    checks c;
    c.load_plugin = [this](const std::string& path) -> std::string {
      loaded.push_back(path);
      return path == "/p/good.so" ? "" : "plugin " + path + ": cannot load";
    };
    c.check_kind = [this](const std::string& kind, const term& args) {
      kinds_checked.push_back(kind);
      std::vector<kind_problem> out;
      if (kind != "echo" && !(kind == "greeter" && loaded_good())) {
        out.push_back({"", "unknown worker kind \"" + kind + "\""});
        return out;
      }
      for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name(args.map_key(i).as_atom().name());
        if (name != "delay") {
          out.push_back({name, "unknown argument"});
        } else if (!args.map_value(i).is_integer()) {
          out.push_back({name, "expected an integer"});
        }
      }
      if (kind == "greeter" && args.find(atom("greeting")) == nullptr) {
        out.push_back({"greeting", "missing the required argument"});
      }
      return out;
    };
    c.check_program = [](const supervision::child_spec& child) -> std::string {
      return child.os.command.front() == "sh" ? "" : "program not found";
    };
    c.check_user = [](const std::string& user, bool) -> std::string {
      return user == "alice" ? "" : "unknown user";
    };
    c.check_group = [](const std::string& group) -> std::string {
      return group == "staff" ? "" : "unknown group";
    };
    c.host_severity = host;
    return c;
  }

  [[nodiscard]] bool loaded_good() const {
    return std::find(loaded.begin(), loaded.end(), "/p/good.so") != loaded.end();
  }
};

std::string problems(std::string_view text, const checks& with) {
  auto loaded = load_config_string(text, "vigil.toml", with);
  if (loaded) {
    return "(accepted)\n" + to_string(loaded->warnings);
  }
  return to_string(loaded.error());
}

TEST(ConfigChecks, AnUnknownKindIsAnErrorAtItsValue) {
  fake_host host;
  EXPECT_EQ(problems(R"([[supervisor.children]]
id = "w"
kind = "ecko"
)",
                     host.make()),
            "vigil.toml:3:8: supervisor.children[0].kind: unknown worker kind \"ecko\"\n");
}

TEST(ConfigChecks, EachBadArgumentIsReportedAtItsValue) {
  fake_host host;
  EXPECT_EQ(problems(R"([[supervisor.children]]
id = "w"
kind = "echo"
args = { delay = "soon", dealy = 3 }
)",
                     host.make()),
            "vigil.toml:4:18: supervisor.children[0].args.delay: expected an integer\n"
            "vigil.toml:4:34: supervisor.children[0].args.dealy: unknown argument\n");
}

TEST(ConfigChecks, AMissingArgumentPointsAtTheArgsTableOrElseTheKind) {
  fake_host host;
  EXPECT_EQ(problems(R"([daemon]
plugins = ["/p/good.so"]

[[supervisor.children]]
id = "a"
kind = "greeter"
args = { delay = 1 }

[[supervisor.children]]
id = "b"
kind = "greeter"
)",
                     host.make()),
            "vigil.toml:7:8: supervisor.children[0].args.greeting: missing the required "
            "argument\n"
            "vigil.toml:11:8: supervisor.children[1].args.greeting: missing the required "
            "argument\n");
}

TEST(ConfigChecks, PluginsLoadFirstWhereverDaemonIsWritten) {
  fake_host host;
  // The kind comes from a plugin of a [daemon] table written after the children.
  auto loaded = load_config_string(R"([[supervisor.children]]
id = "g"
kind = "greeter"
args = { greeting = 1 }

[daemon]
plugins = ["/p/good.so", "/p/bad.so"]
)",
                                   "/etc/vigil/vigil.toml", host.make());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(to_string(loaded.error()),
            "/etc/vigil/vigil.toml:4:21: supervisor.children[0].args.greeting: unknown argument\n"
            "/etc/vigil/vigil.toml:7:26: daemon.plugins[1]: plugin /p/bad.so: cannot load\n");
  EXPECT_EQ(host.loaded, (std::vector<std::string>{"/p/good.so", "/p/bad.so"}));
}

TEST(ConfigChecks, HostProblemsAreWarningsThatLetTheFileLoad) {
  fake_host host;
  auto loaded = load_config_string(R"([[supervisor.children]]
id = "web"
command = ["nginx", "-g", "daemon off;"]
user = "www"
group = "www-data"

[[supervisor.children]]
id = "ok"
command = ["sh", "-c", "true"]
user = "alice"
group = "staff"
)",
                                   "vigil.toml", host.make());
  ASSERT_TRUE(loaded) << to_string(loaded.error());
  EXPECT_EQ(to_string(loaded->warnings),
            "vigil.toml:3:12: warning: supervisor.children[0].command: program not found\n"
            "vigil.toml:4:8: warning: supervisor.children[0].user: unknown user\n"
            "vigil.toml:5:9: warning: supervisor.children[0].group: unknown group\n");
  ASSERT_EQ(loaded->root.children.size(), 2U);
}

TEST(ConfigChecks, HostProblemsAreErrorsWhenAskedAndAllAreReported) {
  fake_host host;
  EXPECT_EQ(problems(R"([[supervisor.children]]
id = "web"
command = ["nginx"]

[[supervisor.children]]
id = "w"
kind = "ecko"
mode = "process"
user = "nobody-here"
)",
                     host.make(severity::error)),
            "vigil.toml:3:12: supervisor.children[0].command: program not found\n"
            "vigil.toml:7:8: supervisor.children[1].kind: unknown worker kind \"ecko\"\n"
            "vigil.toml:9:8: supervisor.children[1].user: unknown user\n");
}

TEST(ConfigChecks, AFileWithAnErrorReportsItsWarningsToo) {
  fake_host host;
  EXPECT_EQ(problems(R"([[supervisor.children]]
id = "web"
command = ["nginx"]

[[supervisor.children]]
id = "w"
kind = "ecko"
)",
                     host.make()),
            "vigil.toml:3:12: warning: supervisor.children[0].command: program not found\n"
            "vigil.toml:7:8: supervisor.children[1].kind: unknown worker kind \"ecko\"\n");
}

TEST(ConfigChecks, NestedChildrenAreCheckedAndOptionsThatFailedTheirOwnCheckAreNot) {
  fake_host host;
  EXPECT_EQ(problems(R"([[supervisor.children]]
id = "jobs"
type = "supervisor"

[[supervisor.children.children]]
id = "w"
kind = "nope"

[[supervisor.children.children]]
id = "x"
kind = "echo"
args = 3
)",
                     host.make()),
            "vigil.toml:7:8: supervisor.children[0].children[0].kind: unknown worker kind "
            "\"nope\"\n"
            "vigil.toml:12:8: supervisor.children[0].children[1].args: expected a table, got "
            "3\n");
  EXPECT_EQ(host.kinds_checked, (std::vector<std::string>{"nope"}));
}

TEST(ConfigChecks, WithoutHooksNothingIsChecked) {
  auto loaded = load_config_string(R"([[supervisor.children]]
id = "w"
kind = "ecko"
)",
                                   "vigil.toml");
  EXPECT_TRUE(loaded);
}

TEST(ConfigChecks, WarningsDoNotMakeTreesDiffer) {
  fake_host host;
  const char* text = R"([[supervisor.children]]
id = "web"
command = ["nginx"]
)";
  auto with = load_config_string(text, "vigil.toml", host.make());
  auto without = load_config_string(text, "vigil.toml");
  ASSERT_TRUE(with && without);
  EXPECT_EQ(with->warnings.size(), 1U);
  EXPECT_EQ(*with, *without);
}

} // namespace
} // namespace vigil::config
