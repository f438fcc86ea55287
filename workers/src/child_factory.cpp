// SPDX-License-Identifier: Apache-2.0
#include "vigil/workers/child_factory.hpp"

#include "vigil/os/service.hpp"
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

error unknown_kind(const kind_registry& kinds, const std::string& name) {
  return error{make_error_code(errc::not_found),
               "unknown worker kind '" + name + "' (known: " + known_kinds(kinds) + ")"};
}

/// Registers the spec's name, if it has one, for the new process; kills it if the name is
/// taken.
result<pid> named(context& sup, const supervision::child_spec& spec, pid started) {
  if (auto name = supervision::registered_name(spec)) {
    if (auto r = sup.runtime().register_name(*name, started); !r) {
      sup.exit(started, atoms::kill);
      return r.error();
    }
  }
  return started;
}

result<pid> start_in_process(const kind_registry& kinds, context& sup,
                             const supervision::child_spec& spec) {
  const kind* k = kinds.find(spec.kind);
  if (k == nullptr) {
    return unknown_kind(kinds, spec.kind);
  }
  auto started = k->start(sup, spec.args);
  if (!started) {
    return error{started.error().code, "kind '" + spec.kind + "': " + started.error().context};
  }
  return named(sup, spec, *started);
}

result<pid> start_os_process(const kind_registry& kinds, os::service* os, context& sup,
                             const supervision::child_spec& spec) {
  if (os == nullptr) {
    return error{make_error_code(errc::invalid_argument),
                 "mode '" + spec.mode
                     + "' needs the OS-worker service: build the factory with "
                       "make_child_factory(kinds, service)"};
  }
  if (spec.mode == "process" && kinds.find(spec.kind) == nullptr) {
    return unknown_kind(kinds, spec.kind);
  }
  auto started = os->start(sup, spec);
  if (!started) {
    return started.error();
  }
  return named(sup, spec, *started);
}

supervision::child_factory factory(const kind_registry& kinds, os::service* os) {
  return [&kinds, os](context& sup, const supervision::child_spec& spec) -> result<pid> {
    if (spec.mode == "inprocess") {
      return start_in_process(kinds, sup, spec);
    }
    if (spec.mode == "process" || spec.mode == "command") {
      return start_os_process(kinds, os, sup, spec);
    }
    return error{make_error_code(errc::invalid_argument), "unknown mode '" + spec.mode + "'"};
  };
}

} // namespace

supervision::child_factory make_child_factory(const kind_registry& kinds) {
  return factory(kinds, nullptr);
}

supervision::child_factory make_child_factory(const kind_registry& kinds, os::service& os) {
  return factory(kinds, &os);
}

} // namespace vigil::workers
