// SPDX-License-Identifier: Apache-2.0
#include "vigil/supervision/readiness.hpp"

namespace vigil::supervision {
namespace {

const atom a_ready("$vigil_ready");
const atom a_waiting("$vigil_waiting");
const atom a_not_ready("not_ready");

} // namespace

atom ready_tag() {
  return a_ready;
}

atom waiting_tag() {
  return a_waiting;
}

void notify_ready(context& self, pid supervisor, std::string_view status) {
  self.send(supervisor, vigil::make_tuple(a_ready, self.self(), std::string(status)));
}

void notify_waiting(context& self, pid supervisor, std::string_view detail) {
  self.send(supervisor, vigil::make_tuple(a_waiting, self.self(), std::string(detail)));
}

std::optional<readiness_message> decode_readiness(const term& m) {
  if (!m.is_tuple() || m.size() != 3 || !m[1].is_pid() || !m[2].is_string()) {
    return std::nullopt;
  }
  bool ready = m[0].is(a_ready);
  if (!ready && !m[0].is(a_waiting)) {
    return std::nullopt;
  }
  return readiness_message{ready, m[1].as_pid(), std::string(m[2].as_string())};
}

std::string ready_detail(const probe_spec& ready) {
  switch (ready.kind) {
  case probe_kind::started: return "started";
  case probe_kind::notify: return "notify";
  case probe_kind::tcp: return "tcp " + ready.target;
  case probe_kind::http: return "http " + ready.target;
  case probe_kind::exec: {
    std::string out = "exec";
    for (const auto& word : ready.command) {
      out += " " + word;
    }
    return out;
  }
  case probe_kind::log: return "log /" + ready.target + "/";
  }
  return "ready";
}

timeout start_call_timeout(const child_spec& spec, timeout base) {
  return spec.ready.kind == probe_kind::started ? base : base + spec.ready_timeout;
}

term not_ready_reason(std::string_view detail) {
  return vigil::make_tuple(a_not_ready, std::string(detail));
}

} // namespace vigil::supervision
