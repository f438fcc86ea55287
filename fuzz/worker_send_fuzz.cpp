// SPDX-License-Identifier: Apache-2.0
// The worker -> daemon message path with its capability check (docs/security.md, "Workers"):
// arbitrary bytes decoded as a command's frames are (without creating atoms, as the pump
// reads a command), then delivered through deliver_checked, as a hostile OS worker's sends.
//
// Input: one binary term. {given, frames} first grants every pid and reference in `given` (what the
// port passed on to the worker), then delivers each frame of the list `frames` (or `frames` itself
// when it is no list); anything else is one frame. The worker is node 7, may send to :echo
// (registered as #PID<0.5.1>; :vigil_supervisor_reports is #PID<0.1.1>, protected).
//
// Checked for every frame: nothing reaches a protected pid; a delivery to a daemon pid or
// another node is to a pid that was given or to a granted name's pid; a delivery carries
// only given pids (and the worker's own); none outside the worker is an exit signal or a `$vigil_`
// message, none to a daemon pid a port info request answered outside the worker; a frame that is no
// envelope delivers nothing; `refused` counts exactly the refusals.
#include "vigil/common/assert.hpp"
#include "vigil/ipc/codec.hpp"
#include "vigil/os/capabilities.hpp"
#include "vigil/worker_sdk/envelope.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>

namespace {

using namespace vigil;

constexpr std::uint32_t own_node = 7;
const pid echo_pid{0, 5, 1};
const pid hub_pid{0, 1, 1};

/// Pids and references a term shows, apart from the worker's own.
struct shown {
  std::set<pid> pids;
  std::set<reference> refs;
};

struct model {
  shown given;
  std::optional<pid> delivered;
};

void collect(const term& t, shown& out) {
  switch (t.kind()) {
  case term_kind::pid:
    if (t.as_pid().node != own_node) {
      out.pids.insert(t.as_pid());
    }
    return;
  case term_kind::reference:
    if (t.as_reference().node != sdk::ref_node(own_node)) {
      out.refs.insert(t.as_reference());
    }
    return;
  case term_kind::tuple:
  case term_kind::list:
    for (const term& e : t.elements()) {
      collect(e, out);
    }
    return;
  case term_kind::map:
    for (std::size_t i = 0; i < t.size(); ++i) {
      collect(t.map_key(i), out);
      collect(t.map_value(i), out);
    }
    return;
  default: return;
  }
}

void deliver_one(os::worker_grants& g, model& m, const os::send_sinks& sinks, const term& frame) {
  m.delivered.reset();
  std::uint64_t before = g.refused.load();
  auto d = sdk::as_send(frame);
  if (!d) {
    (void)sdk::as_exit(frame);
    return;
  }
  auto outcome = os::deliver_checked(g, d->to, d->message, sinks);
  std::uint64_t counted = g.refused.load() - before;
  bool refused = outcome == os::send_outcome::refused || outcome == os::send_outcome::bad_target;
  VIGIL_ASSERT(counted == (refused ? 1U : 0U));
  VIGIL_ASSERT(m.delivered.has_value() == (outcome == os::send_outcome::delivered));
  if (!m.delivered) {
    return;
  }
  pid to = *m.delivered;
  VIGIL_ASSERT(to != hub_pid);
  bool by_name = d->to.is_atom() && to == echo_pid;
  VIGIL_ASSERT(to.node == own_node || by_name || m.given.pids.contains(to));
  // Only pids and references that were given: a port, where any send may end up, grants
  // what it carries, and a reply is known by its reference alone.
  shown carried;
  collect(d->message, carried);
  for (const pid& p : carried.pids) {
    VIGIL_ASSERT(m.given.pids.contains(p));
  }
  for (const reference& r : carried.refs) {
    VIGIL_ASSERT(m.given.refs.contains(r));
  }
  if (to.node != own_node && d->message.is_tuple() && d->message.size() > 0
      && d->message[0].is_atom()) {
    // Never a message only the daemon's own code sends.
    atom tag = d->message[0].as_atom();
    VIGIL_ASSERT(tag != atoms::exit && !tag.name().starts_with("$vigil_"));
    // Nor a port's info request answered outside the worker.
    VIGIL_ASSERT(!(to.node == 0 && tag.name() == "port_info" && d->message.size() == 3
                   && d->message[1].is_pid() && d->message[1].as_pid().node != own_node));
  }
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const atom echo("echo");
  static const atom reports("vigil_supervisor_reports");
  (void)sdk::send_tag();
  (void)sdk::exit_tag();
  auto decoded =
      ipc::decode(std::as_bytes(std::span(data, size)), ipc::decode_limits{.create_atoms = false});
  if (!decoded) {
    return 0;
  }
  // A capacity the inputs cannot pass, so that the model needs no eviction.
  os::worker_grants g{.node = own_node, .given = os::capability_set(1U << 20), .names = {echo}};
  model m;
  const os::send_sinks sinks{
      .whereis = [](atom name) -> std::optional<pid> {
        if (name == echo) {
          return echo_pid;
        }
        if (name == reports) {
          return hub_pid;
        }
        return std::nullopt;
      },
      .is_protected = [](pid p) { return p == hub_pid; },
      .send_local =
          [&m](pid to, const term&) {
            VIGIL_ASSERT(to.node == 0);
            m.delivered = to;
          },
      .route =
          [&m](pid to, const term&) {
            VIGIL_ASSERT(to.node != 0);
            m.delivered = to;
          },
  };
  const term& t = *decoded;
  if (t.is_tuple() && t.size() == 2 && t[0].is_list()) {
    g.given.grant_all(t[0], own_node);
    collect(t[0], m.given);
    if (t[1].is_list()) {
      for (const term& frame : t[1].elements()) {
        deliver_one(g, m, sinks, frame);
      }
    } else {
      deliver_one(g, m, sinks, t[1]);
    }
    return 0;
  }
  deliver_one(g, m, sinks, t);
  return 0;
}
