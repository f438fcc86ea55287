#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Chaos soak of vigild (issue #8): the real daemon on tests/chaos/chaos.toml, and for a
bounded time, all at once: workers killed at random (SIGKILL of OS children, `vigilctl kill
PID :kill`, `:crash` sent to crashers), ping traffic with `send --await`, reloads that
alternate between the config's two variants (vigilctl reload and SIGHUP), escalations of
root/fragile, and `vigilctl status --json` in a loop. Then the invariants: every child back,
each supervisor restarted as its strategy says, no zombie, no leaked descriptor, segment or
memory, no message lost but to a dead pid; and a summary as one JSON line.

Usage: chaos_test.py BUILD_DIR [--seconds N] [--warmup N] [--seed N] [--vigild P] [--vigilctl P]
The main phase lasts --seconds, else $VIGIL_CHAOS_SECONDS, else 60 s; a warm-up (10 s) comes
first, after which the baselines (descriptors, RSS) are taken.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from vigild_harness import Client, Daemon, Failure, check, wait_for  # noqa: E402
import chaos_checks  # noqa: E402
import chaos_probe as probe  # noqa: E402

# Who the killer may hit: every worker of root, o4o, o4a and r4o that no reload touches.
KILLABLE = {"root/echo", "root/ticker", "root/o4o/crasher", "root/o4o/pecho",
            "root/o4o/pcrasher", "root/o4o/dispatcher", "root/o4o/sleeper", "root/o4a/echo",
            "root/o4a/pcrasher", "root/o4a/loop", "root/r4o/first", "root/r4o/second",
            "root/r4o/third"}
# Who answers {from, _} with {:ok, :pong}.
ANSWERING = {"root/echo", "root/reloadable", "root/o4o/crasher", "root/o4o/pecho",
             "root/o4o/pcrasher", "root/o4o/dispatcher", "root/o4o/extra", "root/o4a/echo",
             "root/o4a/pcrasher", "root/r4o/first", "root/r4o/second",
             "root/fragile/crasher"}
KILL_WEIGHTS = {"sigkill_os": 4, "ctl_kill": 4, "crash": 2}
AWAIT_MS = 3000
RELOAD_EVERY = 4.0
ESCALATE_EVERY = 15.0


def variant_text(which):
    """chaos.toml as variant A (as written) or B (see the file's header)."""
    with open(os.path.join(HERE, "chaos.toml")) as f:
        lines = f.read().splitlines()
    if which == "A":
        return "\n".join(lines) + "\n"
    out = [line[3:] if line.startswith("#B ") else line for line in lines
           if not line.rstrip().endswith("# A only")]
    return "\n".join(out) + "\n"


def now_ms():
    return int(time.time() * 1000)


class Run:
    """The daemon under chaos and everything recorded about it."""

    def __init__(self, d, seed):
        self.d = d
        self.vpid = d.proc.pid
        self.seed = seed
        self.lock = threading.Lock()
        self.rows = {}
        self.variant = "A"
        self.phase = "warmup"
        self.kills, self.sends, self.reloads, self.escalations = [], [], [], []
        self.status_ms = {"warmup": [], "main": []}
        self.daemon_ms = {"warmup": [], "main": []}
        self.raw = None
        self.errors, self.events, self.rss, self.lingering = [], [], [], []
        self.killed = set()
        self.tree_pids = {self.vpid}  # vigild and every OS child seen, for /dev/shm names
        self.halt = threading.Event()      # ends the current phase's actors
        self.finished = threading.Event()  # ends the follower and the monitor

    # -- vigilctl ------------------------------------------------------------------------

    def ctl(self, *args):
        """(exit code, stdout, stderr, milliseconds) of one vigilctl --json run."""
        t0 = time.monotonic()
        r = subprocess.run([self.d.vigilctl, "--socket", self.d.socket, "--timeout", "20s",
                            "--json"] + list(args), capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr, (time.monotonic() - t0) * 1000.0

    def ctl_ok(self, *args):
        rc, out, err, _ = self.ctl(*args)
        if rc != 0:
            raise Failure("vigilctl %s: exit %d: %s" % (" ".join(args), rc, err.strip()))
        return json.loads(out.splitlines()[0])

    def status(self, *names):
        return {r["path"]: r for r in self.ctl_ok("status", *names)["workers"]}

    def snapshot(self):
        with self.lock:
            return dict(self.rows)

    # -- actors --------------------------------------------------------------------------

    def actor(self, name, step, rng):
        def loop():
            try:
                while not self.halt.is_set():
                    step(rng)
            except Exception:  # noqa: BLE001 - any failure of an actor fails the run
                self.errors.append("%s: %s" % (name, traceback.format_exc()))
                self.halt.set()
        t = threading.Thread(target=loop, name=name, daemon=True)
        t.start()
        return t

    def pause(self, seconds):
        self.halt.wait(seconds)

    def poll_status(self, rng):
        rc, out, err, ms = self.ctl("status")
        if rc != 0:
            raise Failure("status failed (exit %d): %s" % (rc, err.strip()))
        rows = {r["path"]: r for r in json.loads(out)["workers"]}
        # The same request on a connection kept open: the daemon's part of the latency,
        # without vigilctl's start (an ASan binary) and connection setup.
        if self.raw is None:
            self.raw = Client(self.d.socket, timeout=20)
        t0 = time.monotonic()
        check(self.raw.call("status")["ok"], "raw status failed")
        raw_ms = (time.monotonic() - t0) * 1000.0
        with self.lock:
            self.daemon_ms[self.phase].append(raw_ms)
            self.rows = rows
            self.tree_pids.update(r["os_pid"] for r in rows.values() if r.get("os_pid"))
            self.status_ms[self.phase].append(ms)
        self.pause(0.02)

    def kill_one(self, rng):
        self.pause(rng.uniform(0.05, 0.25))  # at most 20 actions a second: chaos.toml
        kind = rng.choices(list(KILL_WEIGHTS), weights=list(KILL_WEIGHTS.values()))[0]
        rows = [r for p, r in self.snapshot().items()
                if p in KILLABLE and r["state"] == "running" and r["pid"]
                and r["pid"] not in self.killed]
        if kind == "sigkill_os":
            rows = [r for r in rows if r.get("os_pid")]
        elif kind == "crash":
            rows = [r for r in rows if r["kind"] == "crasher"]
        if not rows or self.halt.is_set():
            return
        row = rng.choice(rows)
        record = {"kind": kind, "path": row["path"], "pid": row["pid"], "t": now_ms(),
                  "phase": self.phase}
        if kind == "sigkill_os":
            record["done"] = self.sigkill(row["os_pid"])
        elif kind == "ctl_kill":
            record["done"] = self.ctl("kill", row["pid"], ":kill")[0] == 0
        else:
            record["done"] = self.ctl("send", row["pid"], ":crash")[0] == 0
        self.killed.add(row["pid"])
        with self.lock:
            self.kills.append(record)

    def sigkill(self, os_pid):
        """SIGKILLs os_pid through a pidfd, if it still is one of vigild's live children
        (pid_max may be small: a bare kill(2) could hit a stranger that reused the pid)."""
        try:
            fd = os.pidfd_open(os_pid)
        except ProcessLookupError:
            return False
        try:
            fields = probe.stat_fields(os_pid)
            if fields is None or fields[1] != self.vpid or fields[0] == "Z":
                return False
            signal.pidfd_send_signal(fd, signal.SIGKILL)
            return True
        finally:
            os.close(fd)

    def ping(self, rng):
        rows = [r for p, r in self.snapshot().items()
                if p in ANSWERING and r["state"] == "running" and r["pid"]]
        if not rows:
            self.pause(0.05)
            return
        row = rng.choice(rows)
        t0 = now_ms()
        rc, out, err, _ = self.ctl("send", row["pid"], "{self(), :ping}", "--await",
                                   "%dms" % AWAIT_MS)
        record = {"path": row["path"], "pid": row["pid"], "t0": t0, "t1": now_ms(), "rc": rc,
                  "replies": json.loads(out)["replies"] if rc == 0 else None,
                  "stderr": err.strip()}
        with self.lock:
            self.sends.append(record)

    def reload(self, rng, method=None):
        self.pause(RELOAD_EVERY)
        if self.halt.is_set() and method is None:
            return
        self.apply_variant("B" if self.variant == "A" else "A",
                           method or ("ctl" if len(self.reloads) % 2 == 0 else "sighup"))

    def apply_variant(self, which, method):
        self.d.write_config(variant_text(which))
        record = {"variant": which, "method": method, "t": now_ms(), "phase": self.phase}
        if method == "ctl":
            reply = self.ctl_ok("reload")
            record.update(plan=reply["plan"], applied=reply["applied"],
                          warnings=reply.get("warnings", []))
        else:
            before = self.count_events("config_reloaded")
            self.d.signal(signal.SIGHUP)
            wait_for(lambda: self.count_events("config_reloaded") > before,
                     "config_reloaded after SIGHUP", timeout=30)
            event = [e for e in self.events if e["event"] == "config_reloaded"][before]
            record.update(plan=event["plan"], applied=True, warnings=[])
        self.variant = which
        with self.lock:
            self.reloads.append(record)

    def count_events(self, name):
        return sum(1 for e in list(self.events) if e["event"] == name)

    def escalate(self, rng):
        """Crashes root/fragile/crasher three times in a row: intensity 2 is exceeded, fragile
        gives up, and root restarts it."""
        self.pause(ESCALATE_EVERY)
        if self.halt.is_set():
            return
        fragile = self.status("root/fragile")["root/fragile"]["pid"]
        crashed = []
        for _ in range(3):
            row = wait_for(lambda: self.fresh_crasher(crashed), "fragile/crasher to restart",
                           timeout=20)
            check(self.ctl("send", row["pid"], ":crash")[0] == 0, "crash send failed")
            crashed.append(row["pid"])
        wait_for(lambda: self.fresh_fragile(fragile, crashed), "root to restart fragile",
                 timeout=20)
        with self.lock:
            self.escalations.append({"fragile": fragile, "crashed": crashed, "t": now_ms()})

    def fresh_crasher(self, crashed):
        row = self.status("root/fragile/crasher")["root/fragile/crasher"]
        return row if row["state"] == "running" and row["pid"] not in crashed + [None] else None

    def fresh_fragile(self, old, crashed):
        rows = self.status("root/fragile", "root/fragile/crasher")
        return (rows["root/fragile"]["pid"] not in (old, None)
                and self.fresh_crasher(crashed) is not None)

    # -- background: events and the monitor ------------------------------------------------

    def follow_events(self):
        c = Client(self.d.socket)
        try:
            self.events.extend(c.call("events", {"follow": True, "last": 1000})["result"]
                               ["events"])
            c.sock.settimeout(0.2)
            while not self.finished.is_set():
                try:
                    line = c.read_line()
                except socket.timeout:
                    continue
                if line is None:
                    self.errors.append("the event stream closed during the run")
                    return
                if "event" in line:
                    self.events.append(line)
        finally:
            c.close()

    def monitor(self):
        """RSS twice a second; zombies that outlive 5 s (the reaper's last retry is at 2 s)."""
        first_seen = {}
        while not self.finished.wait(0.5):
            kb = probe.rss_kb(self.vpid)
            if kb is not None:
                self.rss.append((time.monotonic(), self.phase, kb))
            zombies = set(probe.zombie_children(self.vpid))
            t = time.monotonic()
            for z in zombies:
                since = first_seen.setdefault(z, t)
                if t - since > 5 and z not in self.lingering:
                    self.lingering.append(z)
            first_seen = {z: s for z, s in first_seen.items() if z in zombies}

    def start_background(self):
        threads = [threading.Thread(target=self.follow_events, daemon=True),
                   threading.Thread(target=self.monitor, daemon=True)]
        for t in threads:
            t.start()
        wait_for(lambda: self.events, "the first events")
        return threads

    # -- phases --------------------------------------------------------------------------

    def run_phase(self, phase, seconds):
        self.phase = phase
        self.halt.clear()
        rngs = [random.Random("%s-%s-%d" % (self.seed, phase, i)) for i in range(6)]
        threads = [self.actor("status", self.poll_status, rngs[0]),
                   self.actor("killer", self.kill_one, rngs[1]),
                   self.actor("traffic-1", self.ping, rngs[2]),
                   self.actor("traffic-2", self.ping, rngs[3]),
                   self.actor("reloader", self.reload, rngs[4]),
                   self.actor("escalator", self.escalate, rngs[5])]
        self.halt.wait(seconds)
        self.halt.set()
        for t in threads:
            t.join(timeout=60)
            check(not t.is_alive(), "actor %s did not stop" % t.name)
        check(not self.errors, "actor failures:\n" + "\n".join(self.errors))

    def quiesce(self):
        """Back to variant A with every child running; then the system as it stands."""
        if self.variant != "A":
            self.apply_variant("A", "ctl")
        expected = set(chaos_checks.paths_of(variant_text("A")))
        wait_for(lambda: self.settled(expected), "every child running", timeout=30)
        return probe.measure(self.vpid, self.status())

    def settled(self, expected):
        rows = self.status()
        return set(rows) == expected and all(r["state"] == "running" and r["pid"]
                                             for r in rows.values())


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build_dir")
    ap.add_argument("--seconds", type=float,
                    default=float(os.environ.get("VIGIL_CHAOS_SECONDS", "60")))
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--seed", default=str(random.randrange(1 << 32)))
    ap.add_argument("--vigild", help="default: BUILD_DIR/supervisord/vigild")
    ap.add_argument("--vigilctl", help="default: BUILD_DIR/ctl/vigilctl")
    args = ap.parse_args(argv[1:])
    vigild = args.vigild or os.path.join(args.build_dir, "supervisord", "vigild")
    vigilctl = args.vigilctl or os.path.join(args.build_dir, "ctl", "vigilctl")
    print("chaos: seed %s, %g s warm-up, %g s of chaos" % (args.seed, args.warmup, args.seconds),
          flush=True)
    shm_before = probe.shm_entries()
    d = Daemon(vigild, vigilctl, variant_text("A"))
    # Logs of the OS children stay in the test's directory; a smaller ASan quarantine keeps
    # freed memory from looking like growth (chaos_checks.RSS_GROWTH_KB says why).
    os.environ["STATE_DIRECTORY"] = os.path.join(d.dir, "state")
    os.environ["ASAN_OPTIONS"] = ":".join(
        o for o in (os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=16") if o)
    ok = False
    try:
        d.start()
        run = Run(d, args.seed)
        background = run.start_background()
        run.run_phase("warmup", args.warmup)
        base = run.quiesce()
        run.run_phase("main", args.seconds)
        end = run.quiesce()
        failures, summary = chaos_checks.verify(run, base, end)
        run.finished.set()
        for t in background:
            t.join(timeout=10)
        failures += chaos_checks.verify_shutdown(run, end, shm_before)
        print("CHAOS_SUMMARY " + json.dumps(summary, sort_keys=True), flush=True)
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        ok = not failures
    except Failure as e:
        print("FAIL: %s\nvigild log tail:\n%s" % (e, d.read_log()[-4000:]), file=sys.stderr)
    finally:
        try:
            d.cleanup()
        except Failure as e:
            print("FAIL: %s" % e, file=sys.stderr)
            ok = False
    print("ok: chaos_soak" if ok else "chaos_soak FAILED (seed %s)" % args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
