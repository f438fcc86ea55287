// SPDX-License-Identifier: Apache-2.0
// A test plugin for tests/system/: the kind "slow_start" blocks in its start function, as a
// worker with a long initialisation would, then idles. With `gate = "PATH"` it creates
// PATH.started and blocks until PATH exists, so that a test holds the window between vigild's
// exec and its READY=1 open for as long as it looks; without a gate it starts at once.
#include "vigil/workers/plugin.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

namespace {

using namespace vigil;

task<> idle(context& self) {
  for (;;) {
    (void)co_await self.receive();
  }
}

bool exists(const std::string& path) {
  struct stat st {};

  return ::stat(path.c_str(), &st) == 0;
}

/// Announces the start, then waits for the test to open the gate: woken by inotify when a
/// name appears in the gate's directory (the watch is set before the announcement, so the
/// gate cannot be made unseen). After a minute the start goes on regardless, so that a test
/// that failed before opening the gate cannot leave vigild stuck.
void wait_at_gate(const std::string& gate) {
  const auto slash = gate.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : gate.substr(0, slash + 1);
  const int fd = ::inotify_init1(IN_CLOEXEC);
  if (fd >= 0) {
    (void)::inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MOVED_TO);
  }
  std::ofstream(gate + ".started").put('\n');
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (fd >= 0 && !exists(gate)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      break;
    }
    char events[4096];
    (void)::read(fd, events, sizeof events); // which name it was: exists() says
  }
  if (fd >= 0) {
    ::close(fd);
  }
}

} // namespace

VIGIL_PLUGIN_EXPORT int vigil_plugin_init(vigil::workers::kind_registry* registry, int abi) {
  if (abi != VIGIL_PLUGIN_ABI) {
    return 1;
  }
  vigil::workers::kind k;
  k.name = "slow_start";
  k.doc = "blocks in its start until a gate file exists (none: starts at once), then ignores "
          "what it receives (tests only)";
  k.start = [](vigil::context& sup, const vigil::term& args) -> vigil::result<vigil::pid> {
    const vigil::term* gate = args.is_map() ? args.find(vigil::atom("gate")) : nullptr;
    if (gate != nullptr && gate->is_string()) {
      wait_at_gate(std::string(gate->as_string()));
    }
    return sup.spawn_link(idle);
  };
  return registry->add(std::move(k)) ? 0 : 2;
}
