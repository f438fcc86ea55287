// SPDX-License-Identifier: Apache-2.0
// vigild's checks of a config (config_checks.hpp) with the real kinds and the real host:
// programs looked up as the launcher looks them up, users and groups, and how each mode
// counts them.
#include "config_checks.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vigil::daemon {
namespace {

namespace fs = std::filesystem;

supervision::child_spec command(std::vector<std::string> argv) {
  supervision::child_spec spec;
  spec.id = "c";
  spec.mode = "command";
  spec.os.command = std::move(argv);
  return spec;
}

struct temp_dir {
  fs::path path;

  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "vigil-checks-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }

  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  fs::path file(const char* name, mode_t mode) const {
    fs::path p = path / name;
    std::ofstream(p) << "#!/bin/sh\n";
    ::chmod(p.c_str(), mode);
    return p;
  }
};

TEST(ProgramCheck, FindsAProgramInThePathTheChildGets) {
  temp_dir dir;
  dir.file("my-tool", 0755);
  auto spec = command({"my-tool"});
  EXPECT_EQ(program_problem(spec),
            "program \"my-tool\" not found in PATH (" + std::string(std::getenv("PATH")) + ")");
  spec.os.env["PATH"] = "/nonexistent:" + dir.path.string();
  EXPECT_EQ(program_problem(spec), "");
  EXPECT_EQ(program_problem(command({"sh"})), "") << "sh is in vigild's own PATH";
}

TEST(ProgramCheck, RefusesWhatCannotBeExecuted) {
  temp_dir dir;
  auto plain = dir.file("plain", 0644);
  auto spec = command({"plain"});
  spec.os.env["PATH"] = dir.path.string();
  if (::geteuid() != 0 || ::access(plain.c_str(), X_OK) != 0) {
    EXPECT_EQ(program_problem(spec),
              "program \"plain\" is not executable: " + plain.string() + " (mode 0644)");
    EXPECT_EQ(program_problem(command({plain.string()})),
              "program not executable (mode 0644): " + plain.string());
  }
  EXPECT_EQ(program_problem(command({dir.path.string()})),
            "program not a regular file: " + dir.path.string());
  EXPECT_EQ(program_problem(command({(dir.path / "gone").string()})),
            "program no such file: " + (dir.path / "gone").string());
  auto relative = command({"./tool"});
  relative.os.cwd = dir.path.string();
  dir.file("tool", 0755);
  EXPECT_EQ(program_problem(relative), "") << "a relative path is relative to cwd";
}

std::string check(std::string_view text, check_mode mode) {
  auto kinds = workers::kind_registry::with_builtins();
  auto loaded = config::load_config_string(text, "vigil.toml", make_checks(kinds, mode));
  if (!loaded) {
    return to_string(loaded.error());
  }
  return "(accepted)\n" + to_string(loaded->warnings);
}

constexpr const char* host_problems = R"([[supervisor.children]]
id = "web"
command = ["no-such-program-vigil"]
user = "no-such-user-vigil"
group = "no-such-group-vigil"
)";

TEST(ConfigCheckModes, CheckConfigCountsTheHostsProblemsAsErrors) {
  EXPECT_EQ(check(host_problems, check_mode::check_config),
            "vigil.toml:3:12: supervisor.children[0].command: program \"no-such-program-vigil\" "
            "not found in PATH ("
                + std::string(std::getenv("PATH"))
                + ")\n"
                  "vigil.toml:4:8: supervisor.children[0].user: unknown user "
                  "\"no-such-user-vigil\": no such user on this host\n"
                  "vigil.toml:5:9: supervisor.children[0].group: unknown group "
                  "\"no-such-group-vigil\": no such group on this host\n");
}

TEST(ConfigCheckModes, BootAndReloadWarnAboutTheHost) {
  for (auto mode : {check_mode::boot, check_mode::reload}) {
    auto out = check(host_problems, mode);
    EXPECT_EQ(
        out.rfind("(accepted)\nvigil.toml:3:12: warning: supervisor.children[0].command: ", 0), 0U)
        << out;
  }
}

TEST(ConfigCheckModes, KindsAndTheirArgumentsAreErrorsInEveryMode) {
  const char* text = R"([[supervisor.children]]
id = "a"
kind = "ecko"

[[supervisor.children]]
id = "b"
kind = "echo"
args = { delay = "soon", name = "b_echo" }

[[supervisor.children]]
id = "c"
kind = "crasher"
mode = "process"
args = { crash_after = "1m30s" }
)";
  const std::string kinds_problems =
      "vigil.toml:3:8: supervisor.children[0].kind: unknown worker kind \"ecko\" (known: "
      "crasher, dispatcher, echo, ready_when_told)";
  const std::string args_problem =
      "vigil.toml:8:18: supervisor.children[1].args.delay: expected a duration such as \"2s\", "
      "\"1m30s\" or \"250ms\" (or an integer of milliseconds), got \"soon\"\n";
  EXPECT_EQ(check(text, check_mode::check_config), kinds_problems + "\n" + args_problem);
  EXPECT_EQ(check(text, check_mode::boot), kinds_problems + "\n" + args_problem);
  EXPECT_EQ(check(text, check_mode::reload),
            kinds_problems + "; a plugin added to daemon.plugins loads only when vigild restarts\n"
                + args_problem);
}

TEST(ConfigCheckModes, APluginThatWillNotLoadIsAnError) {
  auto out = check(R"([daemon]
plugins = ["/nonexistent/libvigil_nothing.so"]
)",
                   check_mode::check_config);
  EXPECT_EQ(out, "vigil.toml:2:12: daemon.plugins[0]: plugin /nonexistent/libvigil_nothing.so: "
                 "No such file or directory\n");
  EXPECT_EQ(check(R"([daemon]
plugins = ["/nonexistent/libvigil_nothing.so"]
)",
                  check_mode::reload),
            "(accepted)\n")
      << "a reload loads no plugin";
}

TEST(ConfigCheckModes, ANumericUserNeedsAPasswdEntryOrAGroup) {
  const char* alone = R"([[supervisor.children]]
id = "w"
command = ["sh"]
user = "4000000000"
)";
  EXPECT_EQ(check(alone, check_mode::check_config),
            "vigil.toml:4:8: supervisor.children[0].user: uid 4000000000 has no passwd entry (so "
            "no primary group): set group too\n");
  const char* with_group = R"([[supervisor.children]]
id = "w"
command = ["sh"]
user = "4000000000"
group = "4000000000"
)";
  EXPECT_EQ(check(with_group, check_mode::check_config), "(accepted)\n");
}

} // namespace
} // namespace vigil::daemon
