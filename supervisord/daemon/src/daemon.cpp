// SPDX-License-Identifier: Apache-2.0
#include "vigil/daemon/daemon.hpp"

#include "vigil/config/config.hpp"
#include "vigil/daemon/socket_path.hpp"
#include "vigil/ipc/segment.hpp"
#include "vigil/os/reaper.hpp"
#include "vigil/supervision/client.hpp"
#include "vigil/supervision/supervisor.hpp"
#include "vigil/workers/child_factory.hpp"
#include "vigil/workers/plugin.hpp"

#include "event_hub.hpp"
#include "event_store.hpp"
#include "init_mode.hpp"
#include "logging.hpp"
#include "notify.hpp"
#include "os_wiring.hpp"
#include "outbox.hpp"
#include "process_setup.hpp"
#include "server.hpp"
#include "state.hpp"

#include <spdlog/spdlog.h>

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace vigil::daemon {
namespace {

/// A start that failed: the message, already logged, and the exit code.
struct start_failure {
  int code = exit_temporary;
};

/// Everything a running vigild holds, in construction order; destroyed in reverse, after
/// `rt.shutdown()` has ended every process that refers to the rest.
struct daemon_parts {
  workers::kind_registry kinds = workers::kind_registry::with_builtins();
  outbox out;
  event_store events{out};
};

/// The failed children under `sup` ("root/web: reason"), nested supervisors included.
void collect_failed(mailbox& box, pid sup, const std::string& path, std::vector<std::string>& out) {
  auto rows = supervision::which_children(box, sup);
  if (!rows) {
    return;
  }
  for (const auto& row : *rows) {
    std::string child = path + "/" + row.id;
    if (row.state == supervision::child_state::failed) {
      out.push_back(child + " (" + row.reason + ")");
    } else if (row.type == supervision::child_type::supervisor && row.process) {
      collect_failed(box, *row.process, child, out);
    }
  }
}

int permanent_or_temporary(const error& e) {
  bool permanent = e.code == make_error_code(errc::invalid_argument)
                   || e.code == make_error_code(errc::not_found)
                   || e.code == make_error_code(errc::config_invalid);
  return permanent ? exit_permanent : exit_temporary;
}

result<void, start_failure> load_plugins(const config::config_tree& tree,
                                         workers::kind_registry& kinds) {
  for (const auto& path : tree.daemon.plugins) {
    if (auto loaded = workers::load_plugin(path, kinds); !loaded) {
      spdlog::critical("{}", loaded.error().message());
      return start_failure{exit_permanent};
    }
    spdlog::info("loaded plugin {}", path);
  }
  return {};
}

log_options logging_for(const daemon_options& o, const config::config_tree& tree) {
  log_options l;
  l.journal = !o.foreground && under_systemd();
  l.foreground = o.foreground || o.init || is_pid1();
  l.syslog = !l.foreground && !l.journal;
  l.file = o.log_file;
  l.level = tree.daemon.log_level;
  return l;
}

std::string socket_path_for(const daemon_options& o, const config::config_tree& tree) {
  if (o.socket) {
    return *o.socket;
  }
  if (!tree.daemon.socket.empty()) {
    return tree.daemon.socket;
  }
  return default_socket_path(socket_env_from_process());
}

/// Starts the tree and serves until it stops.
int serve(const daemon_options& o, config::config_tree tree, unique_fd signals, unique_fd listener,
          const std::string& socket_path, unique_fd& ready) {
  daemon_parts parts;
  if (auto loaded = load_plugins(tree, parts.kinds); !loaded) {
    return loaded.error().code;
  }
  auto policy = resolve_policy(tree.daemon.allowed_users, tree.daemon.allowed_groups, ::geteuid());
  for (const auto& w : policy.warnings) {
    spdlog::warn("{}", w);
  }
  // Sends to a pid inside a `mode = "process"` worker (node != 0) go through the OS-worker
  // service, which binds itself to the router below once it exists.
  auto router = std::make_shared<os::remote_router>();
  runtime_options ropts;
  ropts.on_warning = [](const std::string& w) { spdlog::warn("runtime: {}", w); };
  ropts.remote_send = os::remote_router::hook(router);
  runtime rt(std::move(ropts));
  supervision::supervisor_spec root_spec = tree.root;
  daemon_state st(rt, parts.kinds, parts.out, parts.events, o.config_path, std::move(tree),
                  std::move(policy.policy));
  st.hub = start_event_hub(st);
  // OS-process children (docs/os-workers.md); destroyed after rt.shutdown() below.
  auto os_workers = make_os_service(st, !o.foreground && under_systemd(), router);
  st.os = os_workers.get();
  st.factory =
      watch_starts(workers::make_child_factory(parts.kinds, *os_workers), st.hub, os_workers.get());
  int code = exit_ok;
  std::vector<std::string> failed; // children held as failed at boot
  {
    notify_systemd("STATUS=starting: " + std::to_string(root_spec.children.size()) + " children");
    auto box = rt.make_mailbox();
    supervision::start_options options;
    options.link = false;
    auto root = supervision::start_supervisor(*box, std::move(root_spec), st.factory, options);
    if (!root) {
      spdlog::critical("the tree did not start: {}", root.error().message());
      code = permanent_or_temporary(root.error());
    } else {
      st.set_root(*root);
      announce_root(rt, st.hub, *root);
      collect_failed(*box, *root, "root", failed);
    }
  }
  if (code == exit_ok) {
    // Loading a large config peaks well above what the tree keeps (the TOML document, the
    // error-free copies); hand the freed heap back to the system before idling.
    ::malloc_trim(0);
    spdlog::info("vigild {} ready: {} processes; control socket {}", VIGIL_VERSION,
                 rt.process_count(), socket_path);
    std::string status = "running: " + std::to_string(rt.process_count()) + " processes";
    if (!failed.empty()) {
      // A failure domain: the others run, the failed ones are named (docs/vigild.md).
      std::string names;
      for (const auto& f : failed) {
        names += (names.empty() ? "" : ", ") + f;
      }
      spdlog::warn("{} child(ren) failed to start and are held as failed: {}", failed.size(),
                   names);
      status += "; failed: " + names;
    }
    notify_systemd("READY=1\nSTATUS=" + status);
    report_start(ready, exit_ok);
    server srv(st, std::move(listener), socket_path, std::move(signals));
    code = srv.run();
    spdlog::info("vigild stopped (exit {})", code);
  } else {
    (void)::unlink(socket_path.c_str());
  }
  // The tree has stopped (the server stops it before it returns); ending the runtime ends any
  // port left, which kills its OS child. Only then may the service go: no port outlives it.
  rt.shutdown();
  st.factory = nullptr;
  st.os = nullptr;
  os_workers.reset();
  return code;
}

} // namespace

int run_daemon(const daemon_options& options) {
  // Detaching changes directory to /: every path from the command line becomes absolute.
  daemon_options o = options;
  std::error_code ec;
  o.config_path = std::filesystem::absolute(o.config_path, ec).string();
  if (o.log_file) {
    o.log_file = std::filesystem::absolute(*o.log_file, ec).string();
  }
  if (o.socket) {
    o.socket = std::filesystem::absolute(*o.socket, ec).string();
  }
  auto loaded = config::load_config(o.config_path);
  if (!loaded) {
    std::cerr << config::to_string(loaded.error());
    return exit_permanent;
  }
  if (o.check_config) {
    std::cout << config::describe(*loaded);
    return exit_ok;
  }
  auto signals = make_signal_fd();
  if (!signals) {
    std::cerr << "vigild: " << signals.error().message() << '\n';
    return exit_temporary;
  }
  unique_fd ready;
  bool background = !o.foreground && !o.init && !under_systemd() && !is_pid1();
  if (background) {
    if (auto parent_status = detach(ready)) {
      return *parent_status;
    }
  }
  if (auto logging = setup_logging(logging_for(o, *loaded)); !logging) {
    std::cerr << "vigild: " << logging.error().message() << '\n';
    report_start(ready, exit_permanent);
    return exit_permanent;
  }
  // Orphaned grandchildren of OS-process workers come to vigild, not to init (design.md).
  if (auto sub = os::become_subreaper(); !sub) {
    spdlog::warn("{}", sub.error().message());
  }
  // A vigild that was killed cannot remove the named segments it made (docs/ipc.md).
  if (auto stale = ipc::segment::remove_stale(); !stale) {
    spdlog::warn("stale shared-memory segments: {}", stale.error().message());
  } else if (*stale > 0) {
    spdlog::info("removed {} stale shared-memory segment(s) of a vigild that died", *stale);
  }
  std::string socket_path = socket_path_for(o, *loaded);
  auto listener = listen_control_socket(
      socket_path, socket_mode_for(resolve_policy(loaded->daemon.allowed_users,
                                                  loaded->daemon.allowed_groups, ::geteuid())
                                       .policy));
  if (!listener) {
    spdlog::critical("{}", listener.error().message);
    report_start(ready, listener.error().exit_code);
    return listener.error().exit_code;
  }
  if (o.init || is_pid1()) {
    spdlog::info("container init mode ({}): reaping orphans, ending strays at exit",
                 is_pid1() ? "PID 1" : "--init");
  }
  int code =
      serve(o, std::move(*loaded), std::move(*signals), std::move(*listener), socket_path, ready);
  // As PID 1 nothing may outlive vigild unnoticed, and as a subreaper its adopted orphans
  // would escape: end what the tree left behind (docs/containers.md).
  (void)end_leftovers();
  report_start(ready, code);
  spdlog::shutdown();
  return code;
}

} // namespace vigil::daemon
