// SPDX-License-Identifier: Apache-2.0
// An example plugin: the worker kind "greeter" answers {from, name} with {:hello, name},
// prefixed by the `greeting` argument if one is given ({:hello, "Dear Ann"}).
// Build it like the daemon (same compiler, same headers) and list it in the config:
//     [daemon]
//     plugins = ["/usr/lib/vigil/plugins/libvigil_greeter.so"]
#include "vigil/workers/plugin.hpp"

#include <string>

namespace {

using namespace vigil;

task<> greeter(context& self, std::string greeting) {
  static const atom hello("hello");
  for (;;) {
    auto m = co_await self.receive();
    const term& msg = m.message;
    if (msg.is_tuple() && msg.size() == 2 && msg[0].is_pid()) {
      term name = msg[1];
      if (!greeting.empty() && name.is_string()) {
        name = term(greeting + " " + std::string(name.as_string()));
      }
      self.send(msg[0].as_pid(), make_tuple(hello, name));
    }
  }
}

} // namespace

VIGIL_PLUGIN_EXPORT int vigil_plugin_init(vigil::workers::kind_registry* registry, int abi) {
  if (abi != VIGIL_PLUGIN_ABI) {
    return 1;
  }
  vigil::workers::kind k;
  k.name = "greeter";
  k.doc = "answers {from, name} with {:hello, name}; optional `greeting` prefix";
  k.start = [](vigil::context& sup, const vigil::term& args) -> vigil::result<vigil::pid> {
    std::string greeting;
    if (args.is_map()) {
      if (const vigil::term* g = args.find(vigil::atom("greeting")); g != nullptr) {
        if (!g->is_string()) {
          return vigil::error{vigil::make_error_code(vigil::errc::invalid_argument),
                              "argument 'greeting' must be a string"};
        }
        greeting = std::string(g->as_string());
      }
    }
    return sup.spawn_link(greeter, std::move(greeting));
  };
  // The arguments it accepts, for vigild --check-config (a kind added without them takes any).
  vigil::workers::arg_schema args{
      {"greeting", vigil::workers::arg_type::string, "a word put before each name", false}};
  return registry->add(std::move(k), std::move(args)) ? 0 : 2;
}
