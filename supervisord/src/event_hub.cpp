// SPDX-License-Identifier: Apache-2.0
// The event hub (event_hub.hpp): the process that watches the root supervisor and the
// control sessions, the sentinel that watches it, and the helpers the daemon calls to
// announce the root and watch sessions.
#include "event_hub.hpp"

#include "vigil/supervision/supervisor.hpp"
#include "vigil/term/text.hpp"

#include "event_store.hpp"
#include "outbox.hpp"
#include "protocol_vocabulary.hpp"
#include "state.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <string>
#include <vector>

namespace vigil::daemon {
namespace {

const atom a_root("$vigil_root");
const atom a_session("$vigil_session_watch");
const atom a_drain("$vigil_drain");
const atom a_drained("$vigil_drained");

/// Exit codes of vigild (docs/vigild.md).
constexpr int exit_ok = 0;
constexpr int exit_temporary = 111;

/// A process of vigild's own died: say which and why, and stop the tree (exit 111).
void stop_loudly(daemon_state& st, const std::string& what) {
  if (st.stopping.load()) {
    return; // a shutdown ends every process; nothing died on its own
  }
  spdlog::critical("{}: vigild stops", what);
  st.out.push({post_kind::fatal, 0, {}, exit_temporary});
}

struct watch {
  enum class kind : std::uint8_t { root, session, sentinel };
  kind what = kind::root;
  pid process;
  std::uint64_t conn = 0;
};

struct hub {
  context& self;
  daemon_state& st;
  pid root;
  std::map<reference, watch> watches;
  std::size_t tree_watches = 0;   ///< watched roots
  std::vector<pid> drain_waiters; ///< who waits for the DOWN of a stopped root

  void watch_pid(pid p, watch w) {
    w.process = p;
    tree_watches += w.what == watch::kind::root ? 1 : 0;
    watches.emplace(self.monitor(p), w);
  }

  /// Answers `from` once the root it watched has been reported down. The children's exits
  /// are on the stream before the root exits (its sink tells them); the root's own comes
  /// from its DOWN here, which the stopper waits for so that it reaches the followers
  /// before their streams end.
  void drain(pid from) {
    drain_waiters.push_back(from);
    answer_drained();
  }

  void answer_drained() {
    if (tree_watches != 0) {
      return;
    }
    for (const pid& w : drain_waiters) {
      self.send(w, vigil::make_tuple(a_drained, st.hub_key));
    }
    drain_waiters.clear();
  }

  void on_root(pid r) {
    root = r;
    if (r == pid{}) {
      return;
    }
    st.events.started("root", r, pid{}, false);
    watch_pid(r, watch{watch::kind::root, {}, 0});
  }

  void on_down(const term& m) {
    if (!m[1].is_reference()) {
      return;
    }
    auto it = watches.find(m[1].as_reference());
    if (it == watches.end()) {
      return;
    }
    watch w = it->second;
    watches.erase(it);
    tree_watches -= w.what == watch::kind::root ? 1 : 0;
    const term& reason = m[4];
    if (w.what == watch::kind::session) {
      if (!reason.is(atoms::normal) && !reason.is(atoms::shutdown)) {
        // A session ends with its connection; any other end is a bug worth a line.
        spdlog::warn("the session of control connection {} died ({}); closing the connection",
                     w.conn, to_string(reason));
      }
      st.out.push({post_kind::close, w.conn, {}, 0});
      return;
    }
    if (w.what == watch::kind::sentinel) {
      stop_loudly(st, "vigild's sentinel " + to_string(term(w.process)) + " died ("
                          + to_string(reason) + ")");
      return;
    }
    st.events.exited("root", w.process, reason);
    root_down(w.process, reason);
    if (!drain_waiters.empty()) {
      answer_drained();
    }
  }

  void root_down(pid r, const term& reason) {
    if (st.retired(r) || st.stopping.load()) {
      return;
    }
    st.events.gave_up("root", reason);
    // auto_shutdown at the root is the tree ending its work; anything else is a failure
    // that a service manager should see.
    bool finished = st.config()->root.auto_shutdown != supervision::auto_shutdown::never
                    && reason.is(atoms::shutdown);
    if (std::string why = st.root_escalation(); !finished && !why.empty()) {
      spdlog::error("the root supervisor gave up: {}; on_max_restarts = \"escalate\"", why);
    }
    spdlog::log(finished ? spdlog::level::info : spdlog::level::err,
                "the root supervisor exited ({}); vigild stops", to_string(reason));
    st.out.push({post_kind::root_down, 0, {}, finished ? exit_ok : exit_temporary});
  }
};

void hub_died(daemon_state& st, pid hub_pid, const term& reason) {
  stop_loudly(st, "vigild's event hub " + to_string(term(hub_pid)) + " died (" + to_string(reason)
                      + "); without it the watch on the root supervisor and on the control "
                        "sessions would be lost");
}

/// Watches the hub, which watches it back: whichever dies first, the other stops vigild.
task<> sentinel(context& self, daemon_state& st, pid hub_pid) {
  protected_scope guard(st.guarded, self.self(), std::string("vigild's sentinel"));
  auto ref = self.monitor(hub_pid);
  const auto is_down =
      pattern::tuple({atoms::down, term(ref), pattern::any(), pattern::any(), pattern::bind("r")});
  auto down = co_await self.receive(is_down);
  hub_died(st, hub_pid, down[0]);
}

bool tagged(const term& m, atom tag, std::size_t size) {
  return m.is_tuple() && m.size() == size && m[0].is(tag);
}

/// A message of the daemon's own: its tag, its size and the daemon's key in second place.
bool keyed(const daemon_state& st, const term& m, atom tag, std::size_t size) {
  return tagged(m, tag, size) && m[1] == st.hub_key;
}

/// {:"$vigil_session_watch", key, session, conn}
void on_session(hub& h, const term& msg) {
  if (msg[2].is_pid() && msg[3].is_integer()) {
    h.watch_pid(msg[2].as_pid(),
                watch{watch::kind::session, {}, static_cast<std::uint64_t>(msg[3].as_integer())});
  }
}

task<> hub_process(context& self, daemon_state& st) {
  protected_scope guard(st.guarded, self.self(), std::string("vigild's event hub"));
  hub h{self, st, pid{}, {}, 0, {}};
  spawn_options so{.initial_call = "vigild:sentinel/1"};
  if (auto s = self.spawn_opt(so, sentinel, st, self.self())) {
    h.watch_pid(*s, watch{watch::kind::sentinel, {}, 0});
  } else {
    stop_loudly(st, "unable to spawn vigild's sentinel: " + s.error().message());
  }
  // Anything not of the daemon's making is ignored: a forged {:"$vigil_root", pid} (which
  // once made any pid's death stop vigild) has no key; a malformed one never reaches as_pid.
  for (;;) {
    auto m = co_await self.receive();
    const term& msg = m.message;
    if (tagged(msg, atoms::down, 5)) {
      h.on_down(msg);
    } else if (keyed(st, msg, a_root, 3) && msg[2].is_pid()) {
      h.on_root(msg[2].as_pid());
    } else if (keyed(st, msg, a_session, 4)) {
      on_session(h, msg);
    } else if (keyed(st, msg, a_drain, 3) && msg[2].is_pid()) {
      h.drain(msg[2].as_pid());
    }
  }
}

} // namespace

pid start_event_hub(daemon_state& st) {
  // Registered under the supervisors' report name, which it ignores (their events reach the
  // daemon's sink): so that no other process can take the name.
  spawn_options options{.name = supervision::report_name(), .initial_call = "vigild:event_hub/1"};
  auto p = st.rt.spawn_opt(options, hub_process, st);
  return p ? *p : pid{};
}

void announce_root(const daemon_state& st, pid root) {
  st.rt.send(st.hub, vigil::make_tuple(a_root, st.hub_key, root));
}

task<bool> drain_events(context& self, const daemon_state& st, timeout limit) {
  self.send(st.hub, vigil::make_tuple(a_drain, st.hub_key, self.self()));
  const auto drained = pattern::tuple({a_drained, st.hub_key});
  auto r = co_await self.receive(drained, limit);
  co_return static_cast<bool>(r);
}

void watch_session(const daemon_state& st, pid session, std::uint64_t conn) {
  st.rt.send(st.hub,
             vigil::make_tuple(a_session, st.hub_key, session, static_cast<std::int64_t>(conn)));
}

} // namespace vigil::daemon
