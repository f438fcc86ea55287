// SPDX-License-Identifier: Apache-2.0
// vigild's command line. CLI11 lives in this one file: it is the costliest header to compile.
#include "vigil/common/cli_reference.hpp"
#include "vigil/daemon/daemon.hpp"
#include "vigil/observer/observer.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  using vigil::daemon::daemon_options;
  daemon_options options;
  CLI::App app{"vigild: runs workers under OTP-style supervision trees (docs/vigild.md)", "vigild"};
  app.add_option("-c,--config", options.config_path, "the config file")->capture_default_str();
  app.add_flag("--check-config", options.check_config,
               "validate the config, print the tree with every effective value, and exit");
  app.add_flag("-f,--foreground", options.foreground, "stay in the foreground and log to stderr");
  app.add_option("--socket", options.socket,
                 "the control socket (default: daemon.socket, else $RUNTIME_DIRECTORY, "
                 "/run/vigil or $XDG_RUNTIME_DIR/vigil, control.sock)");
  app.add_option("--log-file", options.log_file, "also append the log to this file");
  app.add_flag("--init", options.init,
               "act as a container's init (implied as PID 1): foreground, reap orphans, end "
               "leftover processes at exit");
  app.add_flag("--insecure-paths", options.insecure_paths,
               "as root, trust a config, plugins and programs that others than root could "
               "change (refused without it; docs/security.md)");
  app.set_version_flag("-V,--version", "vigild " VIGIL_VERSION);
  // The command line as data, for the man page and the completions (docs/man/).
  if (vigil::cli_reference::requested(argc, argv)) {
    vigil::cli_reference::print(app, std::cout);
    return 0;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    // Usage errors are permanent (100), as every other vigild exit code says; help and
    // --version exit 0.
    return code == 0 ? 0 : vigil::daemon::exit_permanent;
  }
  // The web observer, metrics and hooks ([observer], [[hook]]; docs/observer.md).
  options.services.emplace_back(vigil::observer::start);
  return vigil::daemon::run_daemon(options);
}
