// SPDX-License-Identifier: Apache-2.0
// run_daemon, vigild from its command line to its exit status: the config checked and its
// plugins loaded, the socket opened, the runtime, event hub and OS-worker service built, the
// root supervisor started, the server run, and (as PID 1) what is left ended.
#include "vigil/daemon/daemon.hpp"

#include "vigil/config/config.hpp"
#include "vigil/daemon/socket_path.hpp"
#include "vigil/ipc/segment.hpp"
#include "vigil/os/reaper.hpp"
#include "vigil/os/service.hpp"
#include "vigil/supervision/client.hpp"
#include "vigil/supervision/supervisor.hpp"
#include "vigil/term/text.hpp"
#include "vigil/workers/child_factory.hpp"

#include "config_checks.hpp"
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
#include "tree_events.hpp"
#include "trust_checks.hpp"

#include <spdlog/spdlog.h>

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

namespace vigil::daemon {
namespace {

/// Everything a running vigild holds, in construction order; destroyed in reverse, after
/// `rt.shutdown()` has ended every process that refers to the rest.
struct daemon_parts {
  /// The built-in kinds and those of the plugins, loaded when the config was checked.
  workers::kind_registry kinds;
  outbox out;
  event_store events{out};
};

/// The failed children under the supervisor at `path` ("root/web (reason)"), nested
/// supervisors included, as the index of the tree has them.
void collect_failed(const tree_index::view& v, std::string_view path, std::optional<pid> sup,
                    std::vector<std::string>& out) {
  v.children(path, sup, [&](const indexed_child& c) {
    if (c.state == supervision::child_state::failed) {
      out.push_back(c.path + " (" + c.reason + ")");
    } else if (c.type == supervision::child_type::supervisor && c.process) {
      collect_failed(v, c.path, c.process, out); // its own children, not its twins'
    }
  });
}

/// The tree's events, and while `booting`, systemd's STATUS naming the child the start waits
/// for (docs/readiness.md): READY=1 comes only once every child is ready.
supervision::event_sink boot_status(supervision::event_sink inner,
                                    std::shared_ptr<std::atomic<bool>> booting) {
  return [inner = std::move(inner), booting](const supervision::child_event& e) {
    inner(e);
    if (e.what == supervision::child_event::kind::waiting && booting->load()) {
      std::string what = e.reason.is_string() ? std::string(e.reason.as_string()) : "";
      notify_systemd("STATUS=starting: " + e.path + " waits for " + what);
    }
  };
}

int permanent_or_temporary(const error& e) {
  bool permanent = e.code == make_error_code(errc::invalid_argument)
                   || e.code == make_error_code(errc::not_found)
                   || e.code == make_error_code(errc::config_invalid);
  return permanent ? exit_permanent : exit_temporary;
}

/// What checking the config found that does not stop vigild (docs/vigild.md).
void log_checks(const config::config_tree& tree) {
  for (const auto& path : tree.daemon.plugins) {
    spdlog::info("loaded plugin {}", path);
  }
  for (const auto& w : tree.warnings) {
    spdlog::warn("{}", w.to_string());
  }
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

/// VIGIL_TEST_KILL=hub: kills vigild's event hub once the daemon is ready, so that a test can
/// see vigild stop loudly rather than run on half-blind (docs/vigild.md). Test-only, as
/// VIGIL_TEST_HANG; nothing else reads it.
void kill_for_test(daemon_state& st) {
  const char* which = std::getenv("VIGIL_TEST_KILL"); // NOLINT(concurrency-mt-unsafe)
  if (which != nullptr && std::string_view(which) == "hub") {
    spdlog::warn("VIGIL_TEST_KILL=hub: killing the event hub {}", to_string(term(st.hub)));
    st.rt.exit(st.hub, atoms::kill);
  }
}

/// Starts the tree and serves until it stops.
int serve(const daemon_options& o, workers::kind_registry kinds, config::config_tree tree,
          unique_fd signals, unique_fd listener, const std::string& socket_path, unique_fd& ready) {
  daemon_parts parts{std::move(kinds)};
  log_checks(tree);
  auto policy = resolve_policy(tree.daemon.allowed_users, tree.daemon.allowed_groups, ::geteuid());
  for (const auto& w : policy.warnings) {
    spdlog::warn("{}", w);
  }
  // Sends to a pid inside a `mode = "process"` worker (node != 0) go through the OS-worker
  // service, which binds itself to the router below once it exists.
  auto router = std::make_shared<os::remote_router>();
  runtime_options ropts;
  // A daemon spawns a few hundred processes, not bursts of a million: a populated process
  // table chunk (4,096 slots, ~0.9 MB) would be most of its anonymous memory.
  ropts.prefault = false;
  ropts.on_warning = [](const std::string& w) { spdlog::warn("runtime: {}", w); };
  ropts.remote_send = os::remote_router::hook(router);
  runtime rt(std::move(ropts));
  supervision::supervisor_spec root_spec = tree.root;
  daemon_state st(rt, parts.kinds, parts.out, parts.events, o.config_path, std::move(tree),
                  std::move(policy.policy));
  st.strict_modes = !o.insecure_paths;
  st.hub = start_event_hub(st);
  // OS-process children (docs/os-workers.md); destroyed after rt.shutdown() below.
  auto os_workers = make_os_service(st, !o.foreground && under_systemd(), router);
  st.os = os_workers.get();
  st.factory = workers::make_child_factory(parts.kinds, *os_workers);
  st.sink = tree_sink(st);
  int code = exit_ok;
  std::vector<std::string> failed; // children held as failed at boot
  std::vector<std::shared_ptr<void>> services;
  try {
    for (const auto& start : o.services) {
      services.push_back(start(st));
    }
  } catch (const service_refused& e) {
    spdlog::critical("{}", e.what());
    code = exit_permanent;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    code = exit_temporary;
  }
  if (code == exit_ok) {
    notify_systemd("STATUS=starting: " + std::to_string(root_spec.children.size()) + " children");
    auto box = rt.make_mailbox();
    supervision::start_options options;
    options.link = false;
    auto booting = std::make_shared<std::atomic<bool>>(true);
    options.events = boot_status(st.sink, booting);
    // Returns once every child of the tree is ready (a supervisor acks its start only then).
    auto root = supervision::start_supervisor(*box, std::move(root_spec), st.factory, options);
    booting->store(false);
    if (!root) {
      spdlog::critical("the tree did not start: {}", root.error().message());
      code = permanent_or_temporary(root.error());
    } else {
      st.set_root(*root);
      announce_root(st, *root);
      st.index.read([&failed](const tree_index::view& v) {
        collect_failed(v, "root", std::nullopt, failed);
      });
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
    kill_for_test(st);
    server srv(st, std::move(listener), socket_path, std::move(signals));
    code = srv.run();
    spdlog::info("vigild stopped (exit {})", code);
  } else {
    (void)::unlink(socket_path.c_str());
  }
  // The services read the state and the tree: they stop first, last started first.
  while (!services.empty()) {
    services.pop_back();
  }
  // The tree has stopped (the server stops it before it returns); ending the runtime ends any
  // port left, which kills its OS child. Only then may the service go: no port outlives it.
  rt.shutdown();
  st.factory = nullptr;
  st.sink = nullptr;
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
  // The config's plugins load here, into the registry the tree then starts from, so that the
  // kinds and their arguments are checked with the file (config_checks.hpp).
  auto kinds = workers::kind_registry::with_builtins();
  auto loaded = config::load_config(
      o.config_path,
      make_checks(kinds, o.check_config ? check_mode::check_config : check_mode::boot,
                  !o.insecure_paths),
      !o.insecure_paths);
  if (!loaded) {
    std::cerr << config::to_string(loaded.error());
    return exit_permanent;
  }
  if (auto untrusted = untrusted_files(*loaded, os::default_worker_program(), !o.insecure_paths);
      !untrusted.empty()) {
    for (const auto& line : untrusted) {
      std::cerr << o.config_path << ": " << line << '\n';
    }
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
  // Orphaned grandchildren of OS-process workers come to vigild, not to init (docs/design.md).
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
  if (o.insecure_paths && ::geteuid() == 0) {
    spdlog::warn("--insecure-paths: running as root with a config, plugins and programs that "
                 "others than root may be able to change");
  }
  if (o.init || is_pid1()) {
    spdlog::info("container init mode ({}): reaping orphans, ending strays at exit",
                 is_pid1() ? "PID 1" : "--init");
  }
  int code = serve(o, std::move(kinds), std::move(*loaded), std::move(*signals),
                   std::move(*listener), socket_path, ready);
  // As PID 1 nothing may outlive vigild unnoticed, and as a subreaper its adopted orphans
  // would escape: end what the tree left behind (docs/containers.md).
  (void)end_leftovers();
  report_start(ready, code);
  spdlog::shutdown();
  return code;
}

} // namespace vigil::daemon
