// SPDX-License-Identifier: Apache-2.0
// The event hub (event_hub.hpp): the process that turns starts and exits in the tree into
// events, its resolver of supervisor paths, the sentinel that watches it, and the helpers
// the daemon calls to announce the root and watch sessions.
#include "event_hub.hpp"

#include "vigil/config/reload.hpp"
#include "vigil/os/service.hpp"
#include "vigil/term/text.hpp"

#include "event_store.hpp"
#include "outbox.hpp"
#include "protocol_vocabulary.hpp"
#include "state.hpp"
#include "tree_walk.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <string>
#include <vector>

namespace vigil::daemon {
namespace {

using supervision::child_type;
using supervision::strategy;

const atom a_started("$vigil_started");
const atom a_root("$vigil_root");
const atom a_session("$vigil_session_watch");
const atom a_sups("$vigil_sups");
const atom a_supervisor_report("supervisor_report");
const atom a_child_report("child_report");
const atom a_restart("restart");
const atom a_backoff("backoff");
const atom a_failed("failed");
const atom a_escalate("escalate");
const atom a_drain("$vigil_drain");
const atom a_drained("$vigil_drained");

/// Reports kept for a supervisor whose path is not known yet (the root's, during its start).
constexpr std::size_t max_pending_reports = 10000;
/// OS pids of children remembered for their reports.
constexpr std::size_t max_os_pids = 100000;

std::string seconds_text(std::int64_t ms) {
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

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
  enum class kind : std::uint8_t { child, supervisor, root, session, sentinel };
  kind what = kind::child;
  pid process;
  std::string path;
  std::uint64_t conn = 0;
};

/// How many of a program's last stderr lines a supervisor report quotes.
constexpr std::size_t report_stderr_lines = 3;

struct pending_start {
  pid sup;
  std::string id;
  pid child;
  std::uint64_t seq = 0;
  std::int64_t os_pid = 0; ///< 0: not an OS child
};

struct hub {
  context& self;
  daemon_state& st;
  pid root;
  std::map<pid, std::string> sup_paths;
  std::map<reference, watch> watches;
  std::vector<pending_start> pending;
  std::uint64_t seq = 0;
  bool resolving = false;
  std::uint64_t resolve_seq = 0; ///< starts seen before the running resolver began
  std::vector<term> pending_reports;
  std::map<pid, std::int64_t> os_pids; ///< OS children by port pid, for their reports
  std::string root_escalation;         ///< why the root gave up, from its last report
  std::size_t tree_watches = 0;        ///< watched children, supervisors and roots
  std::vector<pid> drain_waiters;      ///< who waits for the last DOWN of a stopped tree

  static bool in_tree(const watch& w) {
    return w.what == watch::kind::child || w.what == watch::kind::supervisor
           || w.what == watch::kind::root;
  }

  void watch_pid(pid p, watch w) {
    w.process = p;
    tree_watches += in_tree(w) ? 1 : 0;
    watches.emplace(self.monitor(p), std::move(w));
  }

  /// Answers `from` once every process of the tree it watches has been reported down. The
  /// runtime tells a dead process's links before its monitors, so a supervisor can be gone
  /// (and the stop over) before the hub has its last child's DOWN; the stopper waits here
  /// so that the last process_exited reaches the followers before their streams end.
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

  [[nodiscard]] bool dynamic_under(const std::string& sup_path) const {
    auto cfg = st.config();
    auto ids = split_path(sup_path);
    const supervision::supervisor_spec* s = &cfg->root;
    if (!ids.empty()) {
      const auto* c = config::find_child(cfg->root, ids);
      s = c != nullptr ? c->supervisor.get() : nullptr;
    }
    return s != nullptr && s->how == strategy::simple_one_for_one;
  }

  void emit_start(const std::string& sup_path, const pending_start& p) {
    std::string path = sup_path + "/" + p.id;
    if (p.os_pid != 0) {
      if (os_pids.size() >= max_os_pids) {
        os_pids.erase(os_pids.begin());
      }
      os_pids[p.child] = p.os_pid;
    }
    st.events.started(path, p.child, p.sup, dynamic_under(sup_path));
    watch_pid(p.child, watch{watch::kind::child, {}, path, 0});
  }

  /// {:"$vigil_started", key, sup, id, child}
  void on_started(const term& m) {
    if (!m[2].is_pid() || !m[3].is_string() || !m[4].is_pid() || !m[5].is_integer()) {
      return;
    }
    pending_start p{m[2].as_pid(), std::string(m[3].as_string()), m[4].as_pid(), ++seq,
                    m[5].as_integer()};
    if (auto it = sup_paths.find(p.sup); it != sup_paths.end()) {
      emit_start(it->second, p);
      return;
    }
    pending.push_back(std::move(p));
    resolve();
  }

  void on_root(pid r) {
    root = r;
    if (r == pid{}) {
      return;
    }
    sup_paths[r] = "root";
    st.events.started("root", r, pid{}, false);
    watch_pid(r, watch{watch::kind::root, {}, "root", 0});
    flush_pending(false);
  }

  /// A supervisor report (supervision::child_report_name()): logged as one line, in the
  /// spirit of OTP's, recorded for `vigilctl why`, published as an event.
  void on_child_report(const term& m, bool give_up) {
    pid sup = m[1].as_pid();
    std::string sup_path;
    if (auto it = sup_paths.find(sup); it != sup_paths.end()) {
      sup_path = it->second;
    } else if (give_up) {
      sup_path = to_string(term(sup));
    } else {
      if (pending_reports.size() < max_pending_reports) {
        pending_reports.push_back(m);
      }
      resolve();
      return;
    }
    std::string path = sup_path + "/" + std::string(m[2].as_string());
    const term& who = m[3];
    const term& reason = m[4];
    const term& budget = m[5];
    const term& decision = m[6];
    std::int64_t delay = m[7].as_integer();
    bool retry = m[8].is(atoms::true_);
    nlohmann::json j{
        {"reason", reason.is_string() ? std::string(reason.as_string()) : to_string(reason)},
        {"restarts", budget[0].as_integer()},
        {"intensity", budget[1].as_integer()},
        {"period_ms", budget[2].as_integer()},
        {"decision", std::string(decision.as_atom().name())},
        {"delay_ms", delay}};
    std::string where = path;
    if (who.is_pid()) {
      j["pid"] = to_string(who);
      where += " pid " + to_string(who);
      if (auto it = os_pids.find(who.as_pid()); it != os_pids.end()) {
        j["os_pid"] = it->second;
        where += " os_pid " + std::to_string(it->second);
        os_pids.erase(it);
      }
    }
    if (decision.is(a_failed)) {
      j["retry"] = retry;
    }
    std::string what = who.is_pid() ? "exited with " : "failed to start: ";
    what += j["reason"].get<std::string>();
    std::string used = "restarts " + std::to_string(budget[0].as_integer()) + " of "
                       + std::to_string(budget[1].as_integer()) + " in "
                       + seconds_text(budget[2].as_integer());
    if (decision.is(a_failed) && budget[0].as_integer() == 0) {
      used = "a retry of a held child"; // held again before it stayed up
    }
    std::string verdict;
    auto level = spdlog::level::info;
    if (decision.is(a_restart)) {
      verdict = "restart now";
      level = spdlog::level::warn;
    } else if (decision.is(a_backoff)) {
      verdict = "back off " + seconds_text(delay);
      level = spdlog::level::warn;
    } else if (decision.is(a_failed)) {
      verdict = retry ? "failed, held; retry in " + seconds_text(delay)
                      : "failed, held; no retry until vigilctl start or a reload";
      level = spdlog::level::err;
    } else if (decision.is(a_escalate)) {
      verdict = "escalate: over intensity " + std::to_string(budget[1].as_integer()) + " in "
                + seconds_text(budget[2].as_integer()) + ", " + sup_path
                + " stops its children and exits";
      level = spdlog::level::err;
      if (sup == root) {
        root_escalation = path + " exited with " + j["reason"].get<std::string>() + ": "
                          + std::to_string(budget[0].as_integer()) + " restarts in "
                          + seconds_text(budget[2].as_integer()) + ", over the root's intensity "
                          + std::to_string(budget[1].as_integer());
      }
    } else {
      verdict = "not restarted (its restart type)";
      level = spdlog::level::warn;
    }
    // A program's last words: what it wrote to stderr before it died (its lines reach the
    // store before its exit does: the reactor drains a child's pipes first).
    std::string last_words;
    if (j.contains("os_pid")) {
      auto lines = st.events.last_lines(path, "stderr", report_stderr_lines);
      for (auto& line : lines) {
        if (line.size() > 200) {
          line.resize(200);
          line += "...";
        }
        last_words +=
            (last_words.empty() ? "; last stderr: " : " | ")
            + nlohmann::json(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      j["stderr"] = lines;
    }
    spdlog::log(level, "supervisor report: {} {}; {}; decision: {}{}", where, what, used, verdict,
                last_words);
    st.events.decided(path, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

  void flush_reports(bool give_up) {
    auto reports = std::move(pending_reports);
    pending_reports.clear();
    for (const auto& r : reports) {
      on_child_report(r, give_up);
    }
  }

  /// Emits the pending starts whose supervisor is known; with `give_up`, names the others
  /// by their supervisor's pid (a supervisor that died before anyone could ask its parent).
  void flush_pending(bool give_up) {
    std::vector<pending_start> left;
    for (auto& p : pending) {
      if (auto it = sup_paths.find(p.sup); it != sup_paths.end()) {
        emit_start(it->second, p);
      } else if (give_up && p.seq <= resolve_seq) {
        emit_start(to_string(term(p.sup)), p);
      } else {
        left.push_back(std::move(p));
      }
    }
    pending = std::move(left);
    flush_reports(give_up);
    if (!pending.empty()) {
      resolve();
    }
  }

  void resolve();

  void on_sups(const term& list) {
    resolving = false;
    if (!list.is_list()) {
      return;
    }
    for (const auto& entry : list.elements()) {
      if (!entry.is_tuple() || entry.size() != 2 || !entry[0].is_pid() || !entry[1].is_string()) {
        continue;
      }
      pid p = entry[0].as_pid();
      std::string path(entry[1].as_string());
      if (sup_paths.emplace(p, path).second) {
        st.events.started(path, p, pid{}, false);
        watch_pid(p, watch{watch::kind::supervisor, {}, path, 0});
      }
    }
    flush_pending(true);
  }

  void on_down(const term& m) {
    if (!m[1].is_reference()) {
      return;
    }
    auto it = watches.find(m[1].as_reference());
    if (it == watches.end()) {
      return;
    }
    watch w = std::move(it->second);
    watches.erase(it);
    tree_watches -= in_tree(w) ? 1 : 0;
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
    st.events.exited(w.path, w.process, reason);
    if (w.what == watch::kind::supervisor) {
      sup_paths.erase(w.process);
    }
    if (w.what == watch::kind::root) {
      sup_paths.erase(w.process);
      root_down(w.process, reason);
    }
    if (!drain_waiters.empty()) {
      answer_drained();
    }
  }

  /// A supervisor gave up (supervisor.hpp's report). The root's exit is handled by its DOWN,
  /// which also stops the daemon; a nested one is restarted by its parent, or escalates.
  void on_report(pid sup, const term& reason) {
    if (sup == root || st.stopping.load()) {
      return;
    }
    auto it = sup_paths.find(sup);
    st.events.gave_up(it != sup_paths.end() ? it->second : to_string(term(sup)), reason);
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
    if (!finished && !root_escalation.empty()) {
      spdlog::error("the root supervisor gave up: {}; on_max_restarts = \"escalate\"",
                    root_escalation);
    }
    spdlog::log(finished ? spdlog::level::info : spdlog::level::err,
                "the root supervisor exited ({}); vigild stops", to_string(reason));
    st.out.push({post_kind::root_down, 0, {}, finished ? exit_ok : exit_temporary});
  }
};

/// Walks the tree and tells the hub each supervisor's pid and path.
task<> resolver(context& self, daemon_state& st, pid hub_pid, pid root) {
  protected_scope guard(st.guarded, self.self(), std::string("vigild's tree resolver"));
  auto cfg = st.config();
  std::vector<term> found;
  auto tree = co_await walk_tree(self, root, *cfg);
  if (tree) {
    std::vector<const tree_node*> stack{&*tree};
    while (!stack.empty()) {
      const tree_node* n = stack.back();
      stack.pop_back();
      for (const auto& c : n->children) {
        if (c.type == child_type::supervisor && c.process) {
          found.push_back(vigil::make_tuple(*c.process, c.path));
          stack.push_back(&c);
        }
      }
    }
  }
  self.send(hub_pid, vigil::make_tuple(a_sups, st.hub_key, term::list(found)));
}

void hub_died(daemon_state& st, pid hub_pid, const term& reason) {
  stop_loudly(st, "vigild's event hub " + to_string(term(hub_pid)) + " died (" + to_string(reason)
                      + "); without it events, restart counts and the watch on the root "
                        "supervisor would be lost");
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

void hub::resolve() {
  if (resolving || root == pid{}) {
    return;
  }
  resolving = true;
  resolve_seq = seq;
  self.spawn(resolver, st, self.self(), root);
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
    h.watch_pid(
        msg[2].as_pid(),
        watch{watch::kind::session, {}, {}, static_cast<std::uint64_t>(msg[3].as_integer())});
  }
}

task<> hub_process(context& self, daemon_state& st) {
  protected_scope guard(st.guarded, self.self(), std::string("vigild's event hub"));
  hub h{self, st, pid{}, {}, {}, {}, 0, false, 0};
  spawn_options so{.initial_call = "vigild:sentinel/1"};
  if (auto s = self.spawn_opt(so, sentinel, st, self.self())) {
    h.watch_pid(*s, watch{watch::kind::sentinel, {}, {}, 0});
  } else {
    stop_loudly(st, "unable to spawn vigild's sentinel: " + s.error().message());
  }
  // Anything not of the daemon's making is ignored: a forged {:"$vigil_root", pid} (which
  // once made any pid's death stop vigild) has no key; a malformed one never reaches as_pid.
  for (;;) {
    auto m = co_await self.receive();
    const term& msg = m.message;
    if (keyed(st, msg, a_started, 6)) {
      h.on_started(msg);
    } else if (tagged(msg, atoms::down, 5)) {
      h.on_down(msg);
    } else if (keyed(st, msg, a_root, 3) && msg[2].is_pid()) {
      h.on_root(msg[2].as_pid());
    } else if (tagged(msg, a_child_report, 9) && msg[1].is_pid() && msg[2].is_string()
               && msg[5].is_tuple() && msg[5].size() == 3 && msg[6].is_atom()
               && msg[7].is_integer()) {
      // From a supervisor of the tree: only vigild's own code reaches the hub (protected).
      h.on_child_report(msg, false);
    } else if (tagged(msg, a_supervisor_report, 3) && msg[1].is_pid()) {
      h.on_report(msg[1].as_pid(), msg[2]);
    } else if (keyed(st, msg, a_sups, 3)) {
      h.on_sups(msg[2]);
    } else if (keyed(st, msg, a_session, 4)) {
      on_session(h, msg);
    } else if (keyed(st, msg, a_drain, 3) && msg[2].is_pid()) {
      h.drain(msg[2].as_pid());
    }
  }
}

task<> forwarder(context& self, pid hub_pid) {
  for (;;) {
    auto m = co_await self.receive();
    self.send(hub_pid, m.message);
  }
}

} // namespace

pid start_event_hub(daemon_state& st) {
  // Registered for supervisor reports, so that nested supervisors that give up are seen.
  spawn_options options{.name = supervision::report_name(), .initial_call = "vigild:event_hub/1"};
  auto p = st.rt.spawn_opt(options, hub_process, st);
  if (!p) {
    return pid{};
  }
  // A process holds one name: the supervisors' per-exit reports reach the hub through this
  // forwarder.
  spawn_options fwd{.name = supervision::child_report_name(),
                    .initial_call = "vigild:report_forwarder/1"};
  (void)st.rt.spawn_opt(fwd, forwarder, *p);
  return *p;
}

supervision::child_factory watch_starts(supervision::child_factory inner, const daemon_state& st,
                                        const os::service* os) {
  return [inner = std::move(inner), &st, os](context& sup,
                                             const supervision::child_spec& spec) -> result<pid> {
    auto started = inner(sup, spec);
    if (started) {
      std::int64_t os_pid = 0;
      if (os != nullptr) {
        os_pid = os->os_pid(*started).value_or(0);
      }
      sup.send(st.hub, term::tuple({a_started, st.hub_key, sup.self(), spec.id, *started, os_pid}));
    }
    return started;
  };
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
