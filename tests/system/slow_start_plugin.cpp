// SPDX-License-Identifier: Apache-2.0
// A test plugin for tests/system/: the kind "slow_start" takes `delay` ms to start (its start
// function blocks, as a worker with a long initialisation would), then idles. It makes the
// window between vigild's exec and its READY=1 long enough for a test to observe that systemd
// still calls the unit "activating" while the root supervisor starts its children.
#include "vigil/workers/plugin.hpp"

#include <chrono>
#include <cstdint>
#include <thread>

namespace {

using namespace vigil;

task<> idle(context& self) {
  for (;;) {
    (void)co_await self.receive();
  }
}

} // namespace

VIGIL_PLUGIN_EXPORT int vigil_plugin_init(vigil::workers::kind_registry* registry, int abi) {
  if (abi != VIGIL_PLUGIN_ABI) {
    return 1;
  }
  vigil::workers::kind k;
  k.name = "slow_start";
  k.doc = "takes `delay` ms to start, then ignores what it receives (tests only)";
  k.start = [](vigil::context& sup, const vigil::term& args) -> vigil::result<vigil::pid> {
    std::int64_t delay = 1000;
    if (const vigil::term* d = args.is_map() ? args.find(vigil::atom("delay")) : nullptr;
        d != nullptr && d->is_integer()) {
      delay = d->as_integer();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    return sup.spawn_link(idle);
  };
  return registry->add(std::move(k)) ? 0 : 2;
}
