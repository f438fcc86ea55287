// SPDX-License-Identifier: Apache-2.0
// vigil-worker: runs one worker kind as an OS process for vigild (`mode = "process"`).
//
//     vigil-worker --kind NAME [--args TERM] [--plugin PATH]... [--insecure-paths]
//
// with VIGIL_CHANNEL_FD (the inherited channel segment) and VIGIL_NODE in the environment.
// It starts a small runtime (VIGIL_WORKER_SCHEDULERS threads, 1 by default), loads the
// plugins, starts the kind's process and bridges the channel to it (os/worker_bridge.hpp).
// It exits when the kind's process exits (having told the daemon the reason), or when the
// daemon is gone. Exit codes: 0 the process exited :normal, 1 another reason or the daemon
// went away, 100 usage or configuration error, 111 the channel could not be attached.
#include "vigil/os/worker_bridge.hpp"
#include "vigil/term/text.hpp"
#include "vigil/worker_sdk/envelope.hpp"
#include "vigil/workers/kind_registry.hpp"
#include "vigil/workers/plugin.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace vigil;

struct arguments {
  std::string kind;
  std::string args;
  std::vector<std::string> plugins;
  bool insecure_paths = false;
};

bool parse(int argc, char** argv, arguments& out) {
  for (int i = 1; i < argc; ++i) {
    std::string opt = argv[i];
    if (opt == "--insecure-paths") {
      out.insecure_paths = true;
      continue;
    }
    if (i + 1 >= argc) {
      return false;
    }
    std::string value = argv[++i];
    if (opt == "--kind") {
      out.kind = value;
    } else if (opt == "--args") {
      out.args = value;
    } else if (opt == "--plugin") {
      out.plugins.push_back(value);
    } else {
      return false;
    }
  }
  return !out.kind.empty();
}

std::uint32_t env_number(const char* name, std::uint32_t fallback) {
  const char* text = std::getenv(name);
  std::uint32_t v = fallback;
  if (text != nullptr) {
    std::from_chars(text, text + std::strlen(text), v);
  }
  return v;
}

int fail(int code, const std::string& what) {
  std::fprintf(stderr, "vigil-worker: %s\n", what.c_str());
  return code;
}

task<> host(context& self, const workers::kind* k, term args, os::worker_bridge* bridge) {
  self.trap_exit(true);
  auto main = k->start(self, args);
  if (!main) {
    bridge->post_exit(vigil::make_tuple(atom("start_failed"), main.error().message()));
    bridge->start();
    co_return;
  }
  bridge->set_main(*main);
  // The kind's start has returned, its init done: the worker is ready, as an in-daemon worker
  // is once started (for `ready = "notify"`; ignored otherwise).
  bridge->post_ready({});
  bridge->start();
  const auto main_exit = pattern::tuple({atoms::exit, term(*main), pattern::bind("reason")});
  auto m = co_await self.receive(main_exit);
  bridge->post_exit(m[0]);
}

} // namespace

int main(int argc, char** argv) {
  arguments a;
  if (!parse(argc, argv, a)) {
    return fail(
        100, "usage: vigil-worker --kind NAME [--args TERM] [--plugin PATH]... [--insecure-paths]");
  }
  auto kinds = workers::kind_registry::with_builtins();
  for (const auto& path : a.plugins) {
    if (auto r = workers::load_plugin(path, kinds, !a.insecure_paths); !r) {
      return fail(100, r.error().message());
    }
  }
  const workers::kind* k = kinds.find(a.kind);
  if (k == nullptr) {
    return fail(100, "unknown worker kind '" + a.kind + "'");
  }
  term args;
  if (!a.args.empty()) {
    auto parsed = parse_term(a.args);
    if (!parsed) {
      return fail(100, "bad --args: " + a.args);
    }
    args = *parsed;
  }
  std::uint32_t fd = env_number("VIGIL_CHANNEL_FD", 0);
  if (fd == 0) {
    return fail(100, "VIGIL_CHANNEL_FD is not set: vigil-worker is started by vigild");
  }
  std::uint32_t node = env_number("VIGIL_NODE", 0);
  // The kind's references carry this worker's node: vigild lets it show those.
  runtime rt(runtime_options{.schedulers = env_number("VIGIL_WORKER_SCHEDULERS", 1),
                             .ref_node = sdk::ref_node(node)});
  // VIGIL_WAKE_FD: the eventfd that wakes vigild's reader (0, stdin, when absent: none).
  std::uint32_t wake_fd = env_number("VIGIL_WAKE_FD", 0);
  auto bridge = os::worker_bridge::attach(rt, static_cast<int>(fd), node,
                                          wake_fd == 0 ? -1 : static_cast<int>(wake_fd));
  if (!bridge) {
    return fail(111, bridge.error().message());
  }
  rt.spawn(host, k, args, bridge->get());
  (*bridge)->wait();
  auto reason = (*bridge)->exit_reason();
  rt.shutdown();
  return reason && reason->is(atoms::normal) ? 0 : 1;
}
