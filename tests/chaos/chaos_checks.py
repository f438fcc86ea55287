# SPDX-License-Identifier: Apache-2.0
"""The chaos soak's invariants, checked on what chaos_test.Run recorded: its kills, sends,
reloads and escalations against vigild's event stream, and the system around the daemon."""

import math
import os
import signal
import tomllib

from vigild_harness import Failure, wait_for
import chaos_probe as probe
from chaos_probe import SPARE_CHANNELS

# The exit reason each kind of kill gives the process it hits (docs/os-workers.md, "Ports").
EXPECTED = {"sigkill_os": "{:signal, :SIGKILL}", "ctl_kill": ":killed", "crash": ":crashed"}
CHAOS_REASONS = set(EXPECTED.values())
ONE_FOR_ONE = ["root/echo", "root/ticker", "root/o4o/crasher", "root/o4o/pecho",
               "root/o4o/pcrasher", "root/o4o/dispatcher", "root/o4o/sleeper"]
O4A = ["root/o4a/echo", "root/o4a/pcrasher", "root/o4a/loop"]
R4O = ["root/r4o/first", "root/r4o/second", "root/r4o/third"]
NEVER_EXIT = {"root", "root/o4o", "root/o4a", "root/r4o"}
RELOAD_PLAN = {"B": {"root/reloadable": "restart", "root/extra": "start",
                     "root/o4o/extra": "start"},
               "A": {"root/reloadable": "restart", "root/extra": "stop",
                     "root/o4o/extra": "stop"}}

# A lost message's target must have died by the end of its await window; the hub stamps an
# exit when it handles the DOWN, which may come this much later under load.
EXIT_STAMP_SLACK_MS = 500
# RSS after the chaos against RSS after the warm-up, both measured quiet. Under ASan, freed
# blocks first sit in a quarantine (256 MiB by default, 16 MiB here) and the allocator never
# gives memory back, so RSS is a high-water mark that keeps creeping up as the quarantine
# fills and size classes fragment: +7-8 MiB in 60 s runs, +12.5 MiB in 300 s, each minute
# less than the one before. The release build on the same chaos grows 0.7 MiB in 180 s and
# is flat at the end. The bound is the quarantine's size; LeakSanitizer, at vigild's exit,
# catches whatever leaked and became unreachable.
RSS_GROWTH_KB = 16 * 1024
# Status latency is a figure, not a verdict: the summary reports its p50/p99 (whole
# `vigilctl` runs and the daemon's part on an open connection), and bench/ holds the
# targets. The run fails only on a status that does not answer at all: vigilctl's and the
# raw client's 20 s timeouts (tens of times the p99 measured at load 10) catch a hang.


def paths_of(config_text):
    """Every path of a config's tree, supervisors included, the root excluded."""
    out = []

    def walk(prefix, children):
        for c in children:
            out.append(prefix + "/" + c["id"])
            walk(prefix + "/" + c["id"], c.get("children", []))
    walk("root", tomllib.loads(config_text)["supervisor"].get("children", []))
    return out


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return round(s[max(0, math.ceil(p / 100.0 * len(s)) - 1)], 1)


class Events:
    """The followed event stream, indexed."""

    def __init__(self, events):
        self.list = events
        self.exits = {}
        self.starts = {}
        self.restarts = {}
        for i, e in enumerate(events):
            if e["event"] == "process_exited":
                self.exits[e["pid"]] = (i, e)
            elif e["event"] in ("process_started", "process_restarted"):
                self.starts.setdefault(e["path"], []).append((i, e))
                if e["event"] == "process_restarted":
                    self.restarts[e["path"]] = self.restarts.get(e["path"], 0) + 1

    def exit_reason(self, pid):
        return self.exits[pid][1]["reason"] if pid in self.exits else None

    def count(self, path):
        return self.restarts.get(path, 0)

    def exits_of(self, path, reason=None):
        return [e for _, e in self.exits.values()
                if e["path"] == path and (reason is None or e["reason"] == reason)]


def check_kills(run, ev, fail):
    """Every kill ended its target; a kill is `delivered` when the target died of it, else
    `absorbed` (its supervisor was already stopping it). Every death of a chaos reason is one
    of ours."""
    tally = {}
    caused = {}
    for k in run.kills:
        reason = ev.exit_reason(k["pid"])
        if reason is None:
            fail("%s of %s %s at %d: the process never exited" % (k["kind"], k["path"],
                                                                  k["pid"], k["t"]))
            continue
        t = tally.setdefault(k["path"], {"delivered": 0, "absorbed": 0})
        if reason == EXPECTED[k["kind"]]:
            t["delivered"] += 1
            caused[k["pid"]] = reason
        else:
            t["absorbed"] += 1
            if reason != ":shutdown":
                fail("%s of %s %s: it exited %s" % (k["kind"], k["path"], k["pid"], reason))
    for esc in run.escalations:
        for pid in esc["crashed"]:
            caused[pid] = ":crashed"
    for _, e in ev.exits.values():
        if e["reason"] in CHAOS_REASONS and caused.get(e["pid"]) != e["reason"]:
            fail("%s %s exited %s, and the test did not do that" % (e["path"], e["pid"],
                                                                   e["reason"]))
        elif e["reason"] not in CHAOS_REASONS and e["reason"] != ":shutdown":
            fail("%s %s exited %s" % (e["path"], e["pid"], e["reason"]))
        if e["path"] in NEVER_EXIT:
            fail("supervisor %s exited (%s): its intensity was exceeded" % (e["path"],
                                                                          e["reason"]))
    return tally


def check_strategies(run, ev, tally, end_rows, fail):
    def delivered(p):
        return tally.get(p, {}).get("delivered", 0)

    for p in ONE_FOR_ONE:
        if tally.get(p, {}).get("absorbed", 0):
            fail("%s (one_for_one): %d kills absorbed" % (p, tally[p]["absorbed"]))
        if not ev.count(p) == delivered(p) == end_rows[p]["restarts"]:
            fail("%s (one_for_one): %d kills delivered, %d restart events, status says %d"
                 % (p, delivered(p), ev.count(p), end_rows[p]["restarts"]))
    rounds = {p: ev.count(p) for p in O4A}
    r = rounds[O4A[0]]
    d = sum(delivered(p) for p in O4A)
    if len(set(rounds.values())) != 1 or not (r <= d and (d == 0 or r >= 1)):
        fail("o4a (one_for_all): restarts %r for %d kills delivered" % (rounds, d))
    else:
        check_rounds(ev, r, fail)
    r1, r2, r3 = (ev.count(p) for p in R4O)
    d1, d2, d3 = (delivered(p) for p in R4O)
    if not (r1 == d1 and r1 <= r2 <= r3 and r2 <= d1 + d2 and r3 <= d1 + d2 + d3):
        fail("r4o (rest_for_one): restarts %d/%d/%d for kills delivered %d/%d/%d"
             % (r1, r2, r3, d1, d2, d3))
    shut = [len(ev.exits_of(p, ":shutdown")) for p in R4O]
    if not (shut[0] == 0 and shut[1] <= r1 and shut[2] <= r2):
        fail("r4o (rest_for_one): :shutdown exits %r with restarts %d/%d" % (shut, r1, r2))
    for p in O4A + R4O:
        if end_rows[p]["restarts"] != ev.count(p):
            fail("%s: status restarts %d, events %d" % (p, end_rows[p]["restarts"],
                                                        ev.count(p)))
    return {"o4a_rounds": r, "o4a_kills_delivered": d, "r4o_restarts": [r1, r2, r3],
            "r4o_kills_delivered": [d1, d2, d3]}


def check_rounds(ev, rounds, fail):
    """one_for_all: in each round every child's old incarnation exits before any new one
    starts, and at least one of them died of a kill."""
    for k in range(1, rounds + 1):
        olds = [ev.starts[p][k - 1][1]["pid"] for p in O4A]
        news = [ev.starts[p][k][0] for p in O4A]
        exits = [ev.exits.get(pid) for pid in olds]
        if None in exits:
            fail("o4a round %d: an old incarnation never exited: %r" % (k, olds))
            continue
        if max(i for i, _ in exits) > min(news):
            fail("o4a round %d: a child started again before all had stopped" % k)
        if not any(e["reason"] in CHAOS_REASONS for _, e in exits):
            fail("o4a round %d: no child was killed: %r" % (k, [e for _, e in exits]))


def check_escalations(run, ev, fail):
    n = len(run.escalations)
    counts = [ev.count(p) for p in ("root/fragile", "root/fragile/bystander",
                                    "root/fragile/crasher")]
    if counts != [n, n, 3 * n]:
        fail("fragile: %d escalations, restarts fragile/bystander/crasher %r (want %r)"
             % (n, counts, [n, n, 3 * n]))
    gave_up = [e for e in ev.list if e["event"] == "supervisor_gave_up"]
    if len(gave_up) != n or any(e["path"] != "root/fragile" for e in gave_up):
        fail("%d escalations of root/fragile, supervisor_gave_up events %r" % (n, gave_up))
    for esc in run.escalations:
        last = ev.exits.get(esc["crashed"][-1])
        gone = ev.exits.get(esc["fragile"])
        if not last or not gone or gone[1]["reason"] != ":shutdown" or gone[0] < last[0]:
            fail("fragile %s did not give up after its third crash: %r, %r"
                 % (esc["fragile"], last, gone))


def check_reloads(run, ev, fail):
    for r in run.reloads:
        actions = {p["path"]: p["action"] for p in r["plan"]}
        if actions != RELOAD_PLAN[r["variant"]] or not r["applied"] or r["warnings"]:
            fail("reload to %s (%s): plan %r, applied %r, warnings %r"
                 % (r["variant"], r["method"], actions, r["applied"], r["warnings"]))
    n = len(run.reloads)
    exits = [e["reason"] for e in ev.exits_of("root/reloadable")]
    if len(exits) != n or set(exits) - {":shutdown"} or len(ev.starts["root/reloadable"]) != n + 1:
        fail("root/reloadable: %d reloads, exits %r, %d starts"
             % (n, exits, len(ev.starts["root/reloadable"])))


def check_messages(run, ev, fail):
    answered = lost_before = lost_during = 0
    for s in run.sends:
        if s["rc"] != 0:
            fail("send to %s %s: vigilctl exit %d: %s" % (s["path"], s["pid"], s["rc"],
                                                         s["stderr"]))
        elif s["replies"]:
            answered += 1
            if s["replies"] != ["{:ok, :pong}"]:
                fail("send to %s: replies %r" % (s["path"], s["replies"]))
        else:
            gone = ev.exits.get(s["pid"])
            if gone is None or gone[1]["ts"] > s["t1"] + EXIT_STAMP_SLACK_MS:
                fail("no reply from %s %s (sent at %d, waited until %d), which %s"
                     % (s["path"], s["pid"], s["t0"], s["t1"],
                        "lived on" if gone is None else "died at %d" % gone[1]["ts"]))
            elif gone[1]["ts"] < s["t0"]:
                lost_before += 1
            else:
                lost_during += 1
    return {"sent": len(run.sends), "answered": answered, "lost": lost_before + lost_during,
            "lost_target_dead_at_send": lost_before, "lost_target_died_in_await": lost_during}


def check_system(run, base, end, fail):
    growth = end["rss_kb"] - base["rss_kb"]
    if growth > RSS_GROWTH_KB:
        fail("vigild's RSS grew %d KiB (%d -> %d) after the warm-up; bound %d KiB"
             % (growth, base["rss_kb"], end["rss_kb"], RSS_GROWTH_KB))
    others = {k: n for k, n in end["fds"].items() if k != "memfd"}
    if (others != {k: n for k, n in base["fds"].items() if k != "memfd"}
            or abs(end["fds"].get("memfd", 0) - base["fds"].get("memfd", 0)) > SPARE_CHANNELS):
        fail("vigild's descriptors: %r after the warm-up, %r at the end (only memfds may "
             "differ, by the %d spares)" % (base["fds"], end["fds"], SPARE_CHANNELS))
    if end["zombies"] or run.lingering:
        fail("zombies: %r at the end, %r lingered over 5 s" % (end["zombies"], run.lingering))
    for p in end["process_problems"]:
        fail(p)
    if end["memfd_not_in_daemon"] or len(end["memfd_unowned"]) > SPARE_CHANNELS:
        fail("memfds: children hold %r that vigild does not; vigild holds %r that no live "
             "child does (at most %d spares)" % (end["memfd_not_in_daemon"],
                                                 end["memfd_unowned"], SPARE_CHANNELS))
    if end["shm_mapped"]:
        fail("/dev/shm mapped by %r" % end["shm_mapped"])


def check_event_log(run, fail):
    """The daemon's own record (`vigilctl events`) is the tail of what the test followed."""
    kept = run.ctl_ok("events", "-n", "1000")["events"]
    if kept != run.events[-len(kept):]:
        fail("vigilctl events differs from the followed stream")


def rss_timeline(run):
    """The main phase's RSS, one sample per 10 s."""
    main = [(t, kb) for t, ph, kb in run.rss if ph == "main"]
    out, next_t = [], None
    for t, kb in main:
        if next_t is None or t >= next_t:
            out.append(kb)
            next_t = t + 10
    return out


def verify(run, base, end):
    failures = []
    fail = failures.append
    ev = Events(list(run.events))
    check_event_log(run, fail)
    tally = check_kills(run, ev, fail)
    strategies = check_strategies(run, ev, tally, end["rows"], fail)
    check_escalations(run, ev, fail)
    check_reloads(run, ev, fail)
    messages = check_messages(run, ev, fail)
    check_system(run, base, end, fail)
    main = run.status_ms["main"]
    p99 = percentile(main, 99)
    if p99 is None:
        fail("no status answered during the chaos")
    daemon_p99 = percentile(run.daemon_ms["main"], 99)
    kills = {}
    for k in run.kills:
        reason = ev.exit_reason(k["pid"])
        t = kills.setdefault(k["kind"], {"attempted": 0, "delivered": 0})
        t["attempted"] += 1
        t["delivered"] += reason == EXPECTED[k["kind"]]
    summary = {
        "seed": run.seed, "events": len(ev.list), "kills": kills,
        "restarts": sum(ev.restarts.values()),
        "restarts_by_subtree": {s: sum(n for p, n in ev.restarts.items()
                                       if p.startswith("root/%s/" % s))
                                for s in ("o4o", "o4a", "r4o", "fragile")},
        "escalations": len(run.escalations), "reloads": len(run.reloads),
        "messages": messages, "strategies": strategies,
        "status_ms": {"n": len(main), "p50": percentile(main, 50), "p99": p99,
                      "max": percentile(main, 100)},
        "status_daemon_ms": {"p50": percentile(run.daemon_ms["main"], 50), "p99": daemon_p99,
                             "max": percentile(run.daemon_ms["main"], 100)},
        "load_avg_1m": os.getloadavg()[0],
        "rss_kb": {"start": base["rss_kb"], "end": end["rss_kb"],
                   "max": max((kb for _, ph, kb in run.rss if ph == "main"), default=None)},
        "rss_kb_every_10s": rss_timeline(run),
        "fds": {"start": base["fd_total"], "end": end["fd_total"]},
        "live_os_children": end["live_os"],
    }
    return failures, summary


def verify_shutdown(run, end, shm_before):
    """SIGTERM: exit 0, every OS child's group gone, no new /dev/shm entry, and no sanitizer
    report from the daemon (checked by the harness) or a vigil-worker (in the child logs)."""
    failures = []
    groups = {r["os_pid"] for r in end["rows"].values() if r.get("os_pid")}
    run.d.signal(signal.SIGTERM)
    code = run.d.wait(60)
    if code != 0:
        failures.append("vigild exited %d on SIGTERM" % code)

    def left():
        return [p for p, (_, _, g) in probe.all_processes().items() if g in groups]
    try:
        wait_for(lambda: not left(), "the OS children to go", timeout=5)
    except Failure:
        failures.append("processes left in the children's groups: %r" % left())
    new = sorted(n for n in probe.shm_entries() - shm_before
                 if probe.shm_creator(n) in run.tree_pids)
    if new:
        failures.append("new /dev/shm entries: %r" % new)
    logs = os.path.join(run.d.dir, "state", "logs")
    for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
        text = probe.read(os.path.join(logs, name)) or ""
        if "Sanitizer" in text or "runtime error:" in text:
            failures.append("sanitizer report in %s:\n%s" % (name, text[-3000:]))
    return failures
