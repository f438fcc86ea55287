// SPDX-License-Identifier: Apache-2.0
// The capability check on what an OS worker sends: the pids and references it holds
// (capability_set), and deliver_checked, which lets a send through only to a target and with
// a content the worker may reach and show (docs/security.md, "Workers").
#include "vigil/os/capabilities.hpp"

#include "vigil/worker_sdk/envelope.hpp"

#include <algorithm>
#include <span>

namespace vigil::os {

void capability_set::grant(pid p) {
  std::lock_guard lock(mutex_);
  pids_.grant(p, capacity_);
}

void capability_set::grant(reference r) {
  std::lock_guard lock(mutex_);
  grant_locked(r);
}

void capability_set::grant_locked(const reference& r) {
  if (capacity_ == 0 || shown_refs_.use(r) || unshown_refs_.use(r)) {
    return;
  }
  unshown_refs_.add(r);
  trim_references_locked();
}

void capability_set::trim_references_locked() {
  while (unshown_refs_.size() + shown_refs_.size() > capacity_) {
    if (shown_refs_.size() != 0) {
      shown_refs_.drop_oldest();
    } else {
      unshown_refs_.drop_oldest();
    }
  }
}

void capability_set::collect(const term& t, std::uint32_t own_node, shown& out) {
  switch (t.kind()) {
  case term_kind::pid:
    if (t.as_pid().node != own_node || own_node == 0) {
      out.pids.push_back(t.as_pid());
    }
    return;
  case term_kind::reference:
    if (own_node == 0 || t.as_reference().node != sdk::ref_node(own_node)) {
      out.refs.push_back(t.as_reference());
    }
    return;
  case term_kind::tuple:
  case term_kind::list:
    for (const term& e : t.elements()) {
      collect(e, own_node, out);
    }
    return;
  case term_kind::map:
    for (std::size_t i = 0; i < t.size(); ++i) {
      collect(t.map_key(i), own_node, out);
      collect(t.map_value(i), own_node, out);
    }
    return;
  default: return;
  }
}

namespace {

/// The last `capacity` of `keys`: only those can be kept anyway.
template <class Key>
std::span<const Key> last(const std::vector<Key>& keys, std::size_t capacity) {
  std::span<const Key> all(keys);
  return keys.size() > capacity ? all.last(capacity) : all;
}

} // namespace

void capability_set::grant_all(const term& t, std::uint32_t own_node) {
  // The walk happens outside the lock: only the inserts hold it.
  shown found;
  collect(t, own_node, found);
  if (found.empty()) {
    return;
  }
  std::lock_guard lock(mutex_);
  for (const pid& p : last(found.pids, capacity_)) {
    pids_.grant(p, capacity_);
  }
  for (const reference& r : last(found.refs, capacity_)) {
    grant_locked(r);
  }
}

bool capability_set::holds_all(const term& t, std::uint32_t own_node) {
  shown found;
  collect(t, own_node, found);
  if (found.empty()) {
    return true; // most messages show no pid nor reference: no lock on every send for them
  }
  std::lock_guard lock(mutex_);
  bool held = std::all_of(found.pids.begin(), found.pids.end(),
                          [this](const pid& p) { return pids_.contains(p); })
              && std::all_of(found.refs.begin(), found.refs.end(), [this](const reference& r) {
                   return shown_refs_.contains(r) || unshown_refs_.contains(r);
                 });
  if (held) {
    // Shown by the worker: a use. Moved among those shown, forgotten before the unshown.
    for (const reference& r : found.refs) {
      if (!shown_refs_.use(r)) {
        unshown_refs_.move_to(shown_refs_, r);
      }
    }
  }
  return held;
}

bool capability_set::holds(pid p) {
  std::lock_guard lock(mutex_);
  return pids_.use(p);
}

bool capability_set::holds(reference r) {
  std::lock_guard lock(mutex_);
  return shown_refs_.use(r) || unshown_refs_.use(r);
}

std::size_t capability_set::size() const {
  std::lock_guard lock(mutex_);
  return pids_.size();
}

std::size_t capability_set::references() const {
  std::lock_guard lock(mutex_);
  return unshown_refs_.size() + shown_refs_.size();
}

namespace {

send_outcome refuse(worker_grants& g) {
  g.refused.fetch_add(1, std::memory_order_relaxed);
  return send_outcome::refused;
}

/// A message only vigild's own code sends: an exit signal as a process that traps exits
/// receives it ({:EXIT, pid, reason}), a monitor's {:DOWN, ref, :process, pid, reason}, or
/// one of the daemon's `$vigil_` messages, such as a port's {:"$vigil_os_exit", reason,
/// os_reason} from the reactor or a child's {:"$vigil_ready", pid, text} to its supervisor.
/// A message carries no sender, so the daemon's processes act on these as they come: from a
/// worker given their pid, one would end another child's port with a reason of its choosing,
/// say that child is ready, or (with a reference guessed from one it was shown) tell a
/// supervisor that a child it monitors has died.
bool daemon_control(const term& message) {
  if (!message.is_tuple() || message.size() == 0 || !message[0].is_atom()) {
    return false;
  }
  atom tag = message[0].as_atom();
  return tag == atoms::exit || tag == atoms::down || tag.name().starts_with("$vigil_");
}

/// {:port_info, from, ref} asks a port to send {ref, info} to `from` (docs/os-workers.md):
/// from a worker, only with a `from` of its own node, where the answer comes back to it.
/// Any other `from` would have the port carry a term of the worker's choosing to a pid it
/// was not given, a protected one included.
bool redirects_answer(const term& message, std::uint32_t own_node) {
  static const atom port_info("port_info");
  return message.is_tuple() && message.size() == 3 && message[0].is(port_info)
         && message[1].is_pid() && (own_node == 0 || message[1].as_pid().node != own_node);
}

/// Whether a message shows only pids and references the worker holds or of its own node. Whatever
/// reaches a worker goes through a port, which grants every pid in it: the worker's own processes,
/// a port itself (its own, once shown to it, or another worker's) and a name (a port may be
/// registered) all lead there. Without this a worker could grant itself, or a worker it
/// talks to, any pid by showing it on the way. References likewise: a reply is {ref, value},
/// known by its reference alone, and a worker that saw one of the daemon's references can
/// work out the next (a counter and a salt); it may show only those it saw or its own.
bool shows_only_held(worker_grants& g, const term& message) {
  return g.given.holds_all(message, g.node);
}

send_outcome to_pid(worker_grants& g, pid to, const term& message, const send_sinks& sinks) {
  if (!shows_only_held(g, message)) {
    return refuse(g);
  }
  // Nor into another worker: a process there that traps exits takes {:EXIT, ...} as ours do.
  bool own = g.node != 0 && to.node == g.node;
  if ((!own && daemon_control(message)) || (to.node == 0 && redirects_answer(message, g.node))) {
    return refuse(g);
  }
  if (own) {
    // One of the worker's own processes: it goes back into the worker.
    if (sinks.route) {
      sinks.route(to, message);
    }
    return send_outcome::delivered;
  }
  if (to.node == 0 && sinks.is_protected && sinks.is_protected(to)) {
    return refuse(g);
  }
  if (!g.given.holds(to)) {
    return refuse(g);
  }
  if (to.node == 0 && sinks.behind && sinks.behind(to)) {
    return send_outcome::behind;
  }
  const auto& sink = to.node == 0 ? sinks.send_local : sinks.route;
  if (sink) {
    sink(to, message);
  }
  return send_outcome::delivered;
}

} // namespace

send_outcome deliver_checked(worker_grants& g, const term& to, const term& message,
                             const send_sinks& sinks) {
  if (to.is_pid()) {
    return to_pid(g, to.as_pid(), message, sinks);
  }
  if (!to.is_atom()) {
    g.refused.fetch_add(1, std::memory_order_relaxed);
    return send_outcome::bad_target;
  }
  atom name = to.as_atom();
  if (std::find(g.names.begin(), g.names.end(), name) == g.names.end()) {
    return refuse(g);
  }
  if (daemon_control(message) || redirects_answer(message, g.node)
      || !shows_only_held(g, message)) {
    return refuse(g); // a name is a daemon process too
  }
  std::optional<pid> p = sinks.whereis ? sinks.whereis(name) : std::nullopt;
  if (!p) {
    return send_outcome::unregistered;
  }
  if (sinks.is_protected && sinks.is_protected(*p)) {
    return refuse(g);
  }
  if (sinks.behind && sinks.behind(*p)) {
    return send_outcome::behind;
  }
  if (sinks.send_local) {
    sinks.send_local(*p, message);
  }
  return send_outcome::delivered;
}

} // namespace vigil::os
