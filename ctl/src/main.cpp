// SPDX-License-Identifier: Apache-2.0
// vigilctl's command line. The only file that includes CLI11 (a heavy header); everything it
// parses goes into a vigil::ctl::invocation that the ctl_client library carries out.
#include "vigil/common/cli_reference.hpp"
#include "vigil/common/suggest.hpp"
#include "vigil/ctl/commands.hpp"
#include "vigil/ctl/duration.hpp"
#include "vigil/ctl/shell.hpp"
#include "vigil/protocol/command_table.hpp"

#include "line_reader.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using vigil::ctl::exit_code;
using vigil::ctl::global_options;
using vigil::ctl::invocation;

/// What the command line says, before the durations are checked.
struct parsed_line {
  global_options options;
  invocation inv;
  std::string timeout = "60s";
  std::string await;
  bool raw = false; ///< logs --raw
};

/// Examples for `vigilctl help COMMAND` and each command's --help: the lines people copy.
struct command_examples {
  const char* command;
  const char* lines;
};

constexpr std::array<command_examples, 16> examples{{
    {"status", "  vigilctl status\n  vigilctl status echo root/pool/worker_1\n"
               "  vigilctl --json status | jq '.workers[].state'"},
    {"tree", "  vigilctl tree"},
    {"info", "  vigilctl info echo\n  vigilctl info '#PID<0.74.0>'"},
    {"start", "  vigilctl start echo\n  vigilctl start root/jobs/dispatcher"},
    {"stop", "  vigilctl stop echo"},
    {"restart", "  vigilctl restart echo"},
    {"kill", "  vigilctl kill echo\n  vigilctl kill '#PID<0.74.0>' :shutdown"},
    {"send", "  vigilctl send echo '{self(), :ping}' --await 1s\n"
             "  vigilctl send :logger '{:log, \"hello\"}'"},
    {"logs", "  vigilctl logs web\n  vigilctl logs -n 200 web\n  vigilctl logs -f web"},
    {"reload", "  vigilctl reload --dry-run\n  vigilctl reload"},
    {"events", "  vigilctl events -n 20\n  vigilctl events -f"},
    {"spawn", "  vigilctl spawn echo\n  vigilctl spawn dispatcher '%{delay: 100}'"},
    {"registered", "  vigilctl registered"},
    {"shutdown", "  vigilctl shutdown"},
    {"shell", "  vigilctl shell\n  echo 'send(:echo, {self(), :ping}); flush' | vigilctl shell"},
    {"help", "  vigilctl help\n  vigilctl help send"},
}};

std::string examples_of(const std::string& command) {
  for (const auto& e : examples) {
    if (command == e.command) {
      return std::string("\nExamples:\n") + e.lines + "\n";
    }
  }
  return {};
}

/// A count of lines or events: digits only, with an error that says so (CLI11's own check
/// prints its whole numeric range).
CLI::Validator line_count() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        bool digits = !text.empty() && text.size() <= 9
                      && text.find_first_not_of("0123456789") == std::string::npos;
        return digits ? std::string() : "expected a whole number of at least 0, not '" + text + "'";
      },
      "COUNT");
}

/// The arguments and options of the protocol command `c` as vigilctl spells them.
void add_arguments(CLI::App& sub, vigil::protocol::command c, parsed_line& p) {
  using vigil::protocol::command;
  invocation& inv = p.inv;
  switch (c) {
  case command::status:
    sub.add_option("NAME", inv.names, "Workers to show (id or path); all when none");
    return;
  case command::info:
    sub.add_option("TARGET", inv.target, "A name, #PID<0.74.0> or <0.74.0>")->required();
    return;
  case command::start:
  case command::stop:
  case command::restart:
    sub.add_option("NAME", inv.target, "Worker id or path")->required();
    return;
  case command::kill:
    sub.add_option("TARGET", inv.target, "A name, #PID<0.74.0> or <0.74.0>")->required();
    sub.add_option("REASON", inv.term, "Exit reason as a term (default :kill)");
    return;
  case command::send:
    sub.add_option("TARGET", inv.target, "A name, #PID<0.74.0> or <0.74.0>")->required();
    sub.add_option("TERM", inv.term, "The message, e.g. '{self(), :ok}'")->required();
    sub.add_option("--await", p.await, "Print replies that arrive within DURATION (1s, 250ms)");
    return;
  case command::logs:
    sub.add_option("NAME", inv.target, "Worker id or path")->required();
    sub.add_flag("-f,--follow", inv.follow, "Keep printing new lines");
    sub.add_option("-n,--lines", inv.lines, "How many recent lines (daemon default 50)")
        ->check(line_count());
    sub.add_flag("--raw", p.raw,
                 "Print control characters as they are (on a terminal they are escaped, \\x1b)");
    return;
  case command::reload:
    sub.add_flag("--dry-run", inv.dry_run, "Print the plan without applying it");
    return;
  case command::events:
    sub.add_flag("-f,--follow", inv.follow, "Keep printing new events");
    sub.add_option("-n,--last", inv.lines, "How many recent events")->check(line_count());
    return;
  case command::spawn:
    sub.add_option("KIND", inv.target, "The worker kind, e.g. echo")->required();
    sub.add_option("ARGS", inv.term, "Its arguments, as a term");
    return;
  case command::tree:
  case command::registered:
  case command::shutdown:
  case command::hello: // hello, alive, flush and receive are the shell's (reach::shell)
  case command::alive:
  case command::flush:
  case command::receive: return;
  }
}

/// vigilctl's commands: the protocol's (names and summaries from its command table), then
/// the shell and help, which are vigilctl's own.
void add_commands(CLI::App& app, parsed_line& p) {
  for (const vigil::protocol::command_info& c : vigil::protocol::command_table()) {
    if (c.reached == vigil::protocol::reach::cli) {
      add_arguments(*app.add_subcommand(std::string(c.name), std::string(c.summary)), c.cmd, p);
    }
  }
  app.add_subcommand("shell", "An iex-like shell: self, send, flush, spawn, Process.*");
  app.add_subcommand("help", "Show help for vigilctl or one command, with examples")
      ->add_option("COMMAND", p.inv.target, "The command");
  for (CLI::App* sub : app.get_subcommands({})) {
    sub->footer(examples_of(sub->get_name()));
  }
}

/// The subcommand names, in the order --help lists them.
std::vector<std::string> command_names(CLI::App& app) {
  std::vector<std::string> names;
  for (CLI::App* sub : app.get_subcommands({})) {
    names.push_back(sub->get_name());
  }
  return names;
}

/// The first word of the command line that is not an option or an option's value.
std::optional<std::string> first_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i]; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    if (arg == "--socket" || arg == "--timeout") {
      ++i; // its value
    } else if (!arg.starts_with("-")) {
      return std::string(arg);
    }
  }
  return std::nullopt;
}

/// "unknown command 'statuss' (did you mean 'status'?)", or nullopt for a known one.
std::optional<std::string> unknown_command(CLI::App& app, const std::string& word) {
  auto names = command_names(app);
  if (std::find(names.begin(), names.end(), word) != names.end()) {
    return std::nullopt;
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  std::string message = "unknown command '" + word + "'";
  if (auto guess = vigil::closest(word, views)) {
    message += " (did you mean '" + std::string(*guess) + "'?)";
  }
  return message;
}

/// `vigilctl help [COMMAND]`.
int print_help(CLI::App& app, const std::string& command) {
  if (command.empty()) {
    std::cout << app.help();
    return 0;
  }
  if (auto unknown = unknown_command(app, command)) {
    std::cerr << "vigilctl: usage: " << *unknown << "\nRun 'vigilctl help' for the commands.\n";
    return static_cast<int>(exit_code::usage);
  }
  std::cout << app.get_subcommand(command)->help();
  return 0;
}

/// Colour on a terminal unless NO_COLOR is set (no-color.org) or the terminal is dumb.
bool wants_colour() {
  // vigilctl is single-threaded: nothing can change the environment under getenv.
  const char* no_colour = std::getenv("NO_COLOR"); // NOLINT(concurrency-mt-unsafe)
  const char* term = std::getenv("TERM");          // NOLINT(concurrency-mt-unsafe)
  return (no_colour == nullptr || *no_colour == '\0') && term != nullptr
         && std::string_view(term) != "dumb";
}

int usage(const std::string& message) {
  std::cerr << "vigilctl: usage: " << message << "\nRun 'vigilctl --help' for more information.\n";
  return static_cast<int>(exit_code::usage);
}

/// Checks the durations; returns a usage status, or 0.
int finish_parse(parsed_line& p) {
  auto timeout = vigil::ctl::parse_duration(p.timeout);
  if (!timeout) {
    return usage("--timeout: not a duration: '" + p.timeout + "' (try 30s or 500ms)");
  }
  p.options.timeout = *timeout;
  if (!p.await.empty()) {
    auto await = vigil::ctl::parse_duration(p.await);
    if (!await) {
      return usage("--await: not a duration: '" + p.await + "' (try 1s or 250ms)");
    }
    p.inv.await = *await;
  }
  return 0;
}

int run_shell(const global_options& options) {
  auto c = vigil::ctl::connect_client(options);
  if (!c) {
    vigil::ctl::report_error(c.error(), options.json, std::cout, std::cerr);
    return c.error().exit_status();
  }
  vigil::ctl::shell_options so;
  so.interactive = ::isatty(STDIN_FILENO) == 1;
  so.json = options.json;
  so.timeout = options.timeout;
  so.reconnect = [options] { return vigil::ctl::connect_client(options); };
  vigil::ctl::shell_session session(std::move(*c), std::move(so), std::cout, std::cerr);
  if (auto started = session.start(); !started) {
    vigil::ctl::report_error(started.error(), options.json, std::cout, std::cerr);
    return started.error().exit_status();
  }
  auto complete = [&session](std::string_view prefix) { return session.completions(prefix); };
  return vigil::ctl::run_shell(
      session, vigil::ctl::make_line_reader(session.interactive(), complete), std::cout);
}

int vigilctl_main(int argc, char** argv) {
  parsed_line p;
  CLI::App app{"vigilctl: control vigild, the Vigil supervisor.\n"
               "Exit codes: 0 ok, 1 daemon error, 2 usage, 3 cannot connect, 4 protocol error.",
               "vigilctl"};
  app.set_version_flag("--version", std::string("vigilctl ") + VIGIL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--socket", p.options.socket, "Control socket (else $VIGIL_SOCKET, ...)");
  app.add_flag("--json", p.options.json, "Print results as JSON, one object a line");
  app.add_option("--timeout", p.timeout, "How long to wait for a reply (default 60s)");
  add_commands(app, p);
  app.footer("\nExamples:\n  vigilctl status\n  vigilctl send echo '{self(), :ping}' --await 1s\n"
             "  vigilctl logs -f web\n  vigilctl shell\n"
             "Run 'vigilctl help COMMAND' for a command's options and examples.\n");
  // The command line as data, for the man page and the completions (docs/man/).
  if (vigil::cli_reference::requested(argc, argv)) {
    vigil::cli_reference::print(app, std::cout);
    return 0;
  }
  // A mistyped command is named, with a guess, before CLI11 reports it less helpfully.
  if (auto word = first_word(argc, argv)) {
    if (auto unknown = unknown_command(app, *word)) {
      return usage(*unknown);
    }
  }
  // CLI11 reports through exceptions; they stop here.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);
    }
    return usage(e.what());
  }
  if (int status = finish_parse(p); status != 0) {
    return status;
  }
  p.inv.command = app.get_subcommands().front()->get_name();
  if (p.inv.command == "help") {
    return print_help(app, p.inv.target);
  }
  p.options.colour = !p.options.json && ::isatty(STDOUT_FILENO) == 1 && wants_colour();
  // A worker's output may hold escape sequences meant for whoever reads the logs' terminal.
  p.inv.escape_logs = !p.raw && ::isatty(STDOUT_FILENO) == 1;
  if (p.inv.command == "shell") {
    return run_shell(p.options);
  }
  return vigil::ctl::run(p.inv, p.options, std::cout, std::cerr);
}

} // namespace

int main(int argc, char** argv) {
  // vigilctl's own code does not throw; this catches what a library might (CLI11 while the
  // options are declared, nlohmann on a reply shape nobody foresaw, bad_alloc).
  try {
    return vigilctl_main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "vigilctl: fatal: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "vigilctl: fatal: unknown exception\n";
  }
  return static_cast<int>(exit_code::protocol_error);
}
