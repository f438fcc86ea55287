// SPDX-License-Identifier: Apache-2.0
#include "vigil/workers/child_factory.hpp"

#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/spec_term.hpp"

namespace vigil::workers {
namespace {

std::string known_kinds(const kind_registry& kinds) {
  std::string out;
  for (const auto& name : kinds.names()) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

result<pid> start_in_process(const kind_registry& kinds, context& sup,
                             const supervision::child_spec& spec) {
  const kind* k = kinds.find(spec.kind);
  if (k == nullptr) {
    return error{make_error_code(errc::not_found),
                 "unknown worker kind '" + spec.kind + "' (known: " + known_kinds(kinds) + ")"};
  }
  auto started = k->start(sup, spec.args);
  if (!started) {
    return error{started.error().code, "kind '" + spec.kind + "': " + started.error().context};
  }
  if (auto name = supervision::registered_name(spec)) {
    if (auto r = sup.runtime().register_name(*name, *started); !r) {
      sup.exit(*started, atoms::kill);
      return r.error();
    }
  }
  return started;
}

} // namespace

supervision::child_factory make_child_factory(const kind_registry& kinds) {
  return [&kinds](context& sup, const supervision::child_spec& spec) -> result<pid> {
    if (spec.mode == "inprocess") {
      return start_in_process(kinds, sup, spec);
    }
    return error{make_error_code(errc::invalid_argument),
                 "mode '" + spec.mode + "' is not supported by this build yet"};
  };
}

} // namespace vigil::workers
