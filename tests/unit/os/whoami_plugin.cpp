// SPDX-License-Identifier: Apache-2.0
// A test plugin for vigil-worker: the kind "whoami" answers {from, :whoami} with
// {:me, self()}, {from, :make_ref} with {:made, a reference it made}, and any other {from, x}
// with {:got, x, self()}, so that a test can see the worker's own pids and references and
// route messages to them.
#include "vigil/workers/plugin.hpp"

namespace {

using namespace vigil;

task<> whoami(context& self) {
  static const atom me("me");
  static const atom got("got");
  static const atom who("whoami");
  static const atom make_ref("make_ref");
  static const atom made("made");
  for (;;) {
    auto m = co_await self.receive();
    const term& msg = m.message;
    if (msg.is_tuple() && msg.size() == 2 && msg[0].is_pid()) {
      self.send(msg[0].as_pid(), msg[1].is(who) ? vigil::make_tuple(me, self.self())
                                 : msg[1].is(make_ref)
                                     ? vigil::make_tuple(made, self.make_ref())
                                     : vigil::make_tuple(got, msg[1], self.self()));
    }
  }
}

} // namespace

VIGIL_PLUGIN_EXPORT int vigil_plugin_init(vigil::workers::kind_registry* registry, int abi) {
  if (abi != VIGIL_PLUGIN_ABI) {
    return 1;
  }
  vigil::workers::kind k;
  k.name = "whoami";
  k.doc = "answers {from, :whoami} with {:me, self()}";
  k.start = [](vigil::context& sup, const vigil::term&) -> vigil::result<vigil::pid> {
    return sup.spawn_link(whoami);
  };
  return registry->add(std::move(k)) ? 0 : 2;
}
