// SPDX-License-Identifier: Apache-2.0
// vigilctl's command line. The only file that includes CLI11 (a heavy header); everything it
// parses goes into a vigil::ctl::invocation that the ctl_client library carries out.
#include "vigil/ctl/commands.hpp"
#include "vigil/ctl/duration.hpp"
#include "vigil/ctl/shell.hpp"

#include "line_reader.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <iostream>
#include <string>

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

void add_commands(CLI::App& app, parsed_line& p) {
  invocation& inv = p.inv;
  app.add_subcommand("status", "Show workers: state, pid, restarts, uptime")
      ->add_option("NAME", inv.names, "Workers to show (id or path); all when none");
  app.add_subcommand("tree", "Show the supervision tree, as the observer does");
  app.add_subcommand("info", "Show what a process is doing, like Process.info")
      ->add_option("TARGET", inv.target, "A name, #PID<0.74.0> or <0.74.0>")
      ->required();
  for (const char* verb : {"start", "stop", "restart"}) {
    app.add_subcommand(verb, std::string(1, static_cast<char>(verb[0] - 'a' + 'A')) + (verb + 1)
                                 + " a worker")
        ->add_option("NAME", inv.target, "Worker id or path")
        ->required();
  }
  auto* kill = app.add_subcommand("kill", "Send an exit signal to a process");
  kill->add_option("TARGET", inv.target, "A name, #PID<0.74.0> or <0.74.0>")->required();
  kill->add_option("REASON", inv.term, "Exit reason as a term (default :kill)");
  auto* send = app.add_subcommand("send", "Send a message; self() is this command's session");
  send->add_option("TARGET", inv.target, "A name, #PID<0.74.0> or <0.74.0>")->required();
  send->add_option("TERM", inv.term, "The message, e.g. '{self(), :ok}'")->required();
  send->add_option("--await", p.await, "Print replies that arrive within DURATION (1s, 250ms)");
  auto* logs = app.add_subcommand("logs", "Show a worker's captured stdout and stderr");
  logs->add_option("NAME", inv.target, "Worker id or path")->required();
  logs->add_flag("-f,--follow", inv.follow, "Keep printing new lines");
  logs->add_option("-n,--lines", inv.lines, "How many recent lines (daemon default 50)")
      ->check(CLI::NonNegativeNumber);
  logs->add_flag("--raw", p.raw,
                 "Print control characters as they are (on a terminal they are escaped, \\x1b)");
  app.add_subcommand("reload", "Reload the config: only changed workers are touched")
      ->add_flag("--dry-run", inv.dry_run, "Print the plan without applying it");
  auto* events = app.add_subcommand("events", "Show recent events: starts, exits, restarts");
  events->add_flag("-f,--follow", inv.follow, "Keep printing new events");
  events->add_option("-n,--last", inv.lines, "How many recent events")
      ->check(CLI::NonNegativeNumber);
  auto* spawn = app.add_subcommand("spawn", "Start an unsupervised process of a worker kind");
  spawn->add_option("KIND", inv.target, "The worker kind, e.g. echo")->required();
  spawn->add_option("ARGS", inv.term, "Its arguments, as a term");
  app.add_subcommand("registered", "List registered names");
  app.add_subcommand("shutdown", "Stop the tree in reverse order and exit vigild");
  app.add_subcommand("shell", "An iex-like shell: self, send, flush, spawn, Process.*");
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
  return vigil::ctl::run_shell(session, vigil::ctl::make_line_reader(session.interactive()),
                               std::cout);
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
