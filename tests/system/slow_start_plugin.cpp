// SPDX-License-Identifier: Apache-2.0
// A test plugin for tests/system/: the kind "slow_start" blocks in its start function, as a
// worker with a long initialisation would, then idles. With `gate = "PATH"` it creates
// PATH.started and blocks until PATH exists, so that a test holds the window between vigild's
// exec and its READY=1 open for as long as it looks; with `delay = MS` it blocks MS ms.
#include "vigil/workers/plugin.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

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

/// Announces the start, then waits for the test to open the gate. Nothing signals the file's
/// creation, so it is looked for every 10 ms; after a minute the start goes on regardless,
/// so that a test that failed before opening the gate cannot leave vigild stuck.
void wait_at_gate(const std::string& gate) {
  std::ofstream(gate + ".started").put('\n');
  auto until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!exists(gate) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace

VIGIL_PLUGIN_EXPORT int vigil_plugin_init(vigil::workers::kind_registry* registry, int abi) {
  if (abi != VIGIL_PLUGIN_ABI) {
    return 1;
  }
  vigil::workers::kind k;
  k.name = "slow_start";
  k.doc = "blocks in its start until a gate file exists or for `delay` ms, then ignores what it "
          "receives (tests only)";
  k.start = [](vigil::context& sup, const vigil::term& args) -> vigil::result<vigil::pid> {
    const vigil::term* gate = args.is_map() ? args.find(vigil::atom("gate")) : nullptr;
    const vigil::term* delay = args.is_map() ? args.find(vigil::atom("delay")) : nullptr;
    if (gate != nullptr && gate->is_string()) {
      wait_at_gate(std::string(gate->as_string()));
    } else {
      std::int64_t ms = delay != nullptr && delay->is_integer() ? delay->as_integer() : 1000;
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    return sup.spawn_link(idle);
  };
  return registry->add(std::move(k)) ? 0 : 2;
}
