#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""vigild beside supervisord, in one run: daemon memory, idle cost and status round trip.

Scenarios, each on a fresh daemon in a temp dir under /tmp:
  supervisord  N_OS programs running PROGRAM (supervisord -n, unix socket)
  vigild-os    N_OS plain-command workers running the same PROGRAM
  vigild-inproc  N_INPROC in-process echo workers
  vigild-mixed   N_INPROC in-process echo workers + N_OS OS workers: plain commands and
                 N_PROCESS `kind = "echo", mode = "process"` workers (vigil-worker)

For each, once every child runs and the daemon settled (2 s):
  rss/pss       the daemon process alone (VmRSS, smaps_rollup Pss); its child processes are
                summed separately (RSS), since they are the same programs on both sides
                except vigil-worker. Read before any full status reply was served (vigild's
                readiness is polled with one name), and again after the status runs;
  idle          over IDLE seconds: utime+stime delta (/proc/PID/stat, every thread; 10 ms
                ticks), the on-CPU ns of every thread (/proc/PID/task/*/schedstat) and the
                voluntary context switches of all its threads (/proc/PID/task/*/status), i.e.
                how often the daemon woke up while nothing happened;
  send by id    for vigild with in-process workers: SENDS `send` requests (SENDS = every
                in-process worker once, 10,000 by default) on one connection, each to a bare
                id ("echo4711"), which vigild finds in its index of the tree; median, p99 and
                the total.
  status        RUNS round trips of the CLI (`supervisorctl status`, `vigilctl status`: a
                process start, connect, request, full reply printed) and of the protocol
                itself from this script (XML-RPC getAllProcessInfo / a `status` JSON line,
                timed to its last byte: vigild's reply is not parsed, 1.8 MB of JSON takes
                Python about 20 ms), median and p99 (nearest rank); and the daemon's CPU
                time per protocol status (all its threads, schedstat), which a loaded
                machine inflates far less than the round trip.

Prints one JSON line per scenario to --out, then a Markdown table on stdout. Run it as
bench/daemon_compare.sh does. Only processes this script started are ever signalled.
"""
import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

CLK_TCK = os.sysconf("SC_CLK_TCK")
PROGRAM = ["sleep", "infinity"]


def log(*a):
    print("[daemon_compare]", *a, file=sys.stderr, flush=True)


# -- /proc ------------------------------------------------------------------------------------


def status_fields(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def kb(fields, key):
    v = fields.get(key, "0 kB").split()
    return int(v[0]) if v else 0


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_ns(pid):
    """On-CPU time of all the process's threads in ns (schedstat: finer than ticks)."""
    total = 0
    for t in threads(pid):
        try:
            with open("/proc/%d/task/%d/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def threads(pid):
    try:
        return [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        return []


def switches(pid):
    """Voluntary and involuntary context switches summed over the process's threads."""
    vol = invol = 0
    for t in threads(pid):
        st = status_fields("/proc/%d/task/%d/status" % (pid, t))
        vol += int(st.get("voluntary_ctxt_switches", 0))
        invol += int(st.get("nonvoluntary_ctxt_switches", 0))
    return vol, invol


def children_of(pid):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(name))
    return out


def pct(values, p):
    s = sorted(values)
    return s[max(1, min(len(s), math.ceil(p / 100.0 * len(s)))) - 1]


def timed(fn, runs):
    fn()  # warm: page cache, first connection
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return {"median_ms": round(statistics.median(out), 3), "p99_ms": round(pct(out, 99), 3),
            "min_ms": round(min(out), 3), "max_ms": round(max(out), 3), "runs": runs}


def wait_for(pred, what, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


# -- supervisord ------------------------------------------------------------------------------


class UnixTransport(xmlrpc.client.Transport):
    """XML-RPC over supervisord's unix socket (what supervisorctl does)."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        import http.client

        path = self.path

        class Conn(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)

        return Conn("localhost")


class Supervisord:
    name = "supervisord"

    def __init__(self, root, n):
        self.root, self.n = root, n
        self.total = n
        self.conf = os.path.join(root, "supervisord.conf")
        self.sock = os.path.join(root, "supervisor.sock")
        self.proc = None
        lines = ["[unix_http_server]", "file=" + self.sock, "chmod=0700", "",
                 "[supervisord]", "nodaemon=true", "user=root",
                 "logfile=%s/supervisord.log" % root, "logfile_backups=0", "loglevel=warn",
                 "pidfile=%s/supervisord.pid" % root, "childlogdir=" + root, "",
                 "[rpcinterface:supervisor]",
                 "supervisor.rpcinterface_factory = supervisor.rpcinterface:"
                 "make_main_rpcinterface", "",
                 "[supervisorctl]", "serverurl=unix://" + self.sock, ""]
        for i in range(n):
            lines += ["[program:p%d]" % i, "command=" + " ".join(PROGRAM), "autostart=true",
                      "autorestart=true", "startsecs=0", "stopsignal=TERM", "stopwaitsecs=2",
                      "stdout_logfile=NONE", "stderr_logfile=NONE", ""]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))

    def start(self):
        self.log = open(os.path.join(self.root, "out.log"), "ab")
        self.proc = subprocess.Popen(["supervisord", "-n", "-c", self.conf], cwd=self.root,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        wait_for(lambda: os.path.exists(self.sock), "supervisord's socket", 30)
        self.rpc = xmlrpc.client.ServerProxy("http://localhost",
                                             transport=UnixTransport(self.sock))
        wait_for(lambda: self.running() == self.total, "%d programs RUNNING" % self.total, 120)

    def running(self):
        try:
            return sum(1 for p in self.rpc.supervisor.getAllProcessInfo()
                       if p["statename"] == "RUNNING")
        except (OSError, xmlrpc.client.Error):
            return 0

    def status_cli(self):
        subprocess.run(["supervisorctl", "-c", self.conf, "status"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)

    def status_rpc(self):
        self.rpc.supervisor.getAllProcessInfo()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- vigild -----------------------------------------------------------------------------------


class Vigild:
    def __init__(self, name, root, vigild, vigilctl, n_inproc, n_cmd, n_process):
        self.name, self.root = name, root
        self.vigild, self.vigilctl = vigild, vigilctl
        self.total = n_inproc + n_cmd + n_process
        self.n_inproc = n_inproc
        self.last = ("proc%d" % (n_process - 1) if n_process else
                     "cmd%d" % (n_cmd - 1) if n_cmd else "echo%d" % (n_inproc - 1))
        self.conf = os.path.join(root, "vigil.toml")
        self.sock = os.path.join(root, "run", "control.sock")
        self.proc = None
        self.next_id = 0
        out = ['[supervisor]', 'strategy = "one_for_one"', 'intensity = 100', '']
        for i in range(n_inproc):
            out += ['[[supervisor.children]]', 'id = "echo%d"' % i, 'kind = "echo"', '']
        for i in range(n_cmd):
            out += ['[[supervisor.children]]', 'id = "cmd%d"' % i,
                    'command = %s' % json.dumps(PROGRAM), 'shutdown = "2s"', '']
        for i in range(n_process):
            out += ['[[supervisor.children]]', 'id = "proc%d"' % i, 'kind = "echo"',
                    'mode = "process"', 'shutdown = "2s"', '']
        with open(self.conf, "w") as f:
            f.write("\n".join(out))

    def start(self):
        self.log = open(os.path.join(self.root, "vigild.log"), "ab")
        self.proc = subprocess.Popen([self.vigild, "--foreground", "--config", self.conf,
                                      "--socket", self.sock], cwd=self.root,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        wait_for(lambda: os.path.exists(self.sock), "vigild's socket", 60)
        # Children start in order: once the last runs, all were started. Polling with one
        # name keeps full status replies out of the heap before the idle RSS is read; the
        # full count is checked after the measurement.
        wait_for(lambda: self.running([self.last]) == 1, "the last worker running", 180)

    def call(self, cmd, args=None, raw=False):
        self.next_id += 1
        req = {"v": 1, "id": self.next_id, "cmd": cmd}
        if args is not None:
            req["args"] = args
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        try:
            s.connect(self.sock)
            s.sendall((json.dumps(req) + "\n").encode())
            # Chunks kept in a list and only the new one searched: growing one bytes object
            # and searching all of it again cost ~3 ms per 1.8 MB reply, the client's time.
            chunks = []
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\n" in chunk:
                    break
            line = b"".join(chunks).split(b"\n", 1)[0]
            if raw:
                return line
            return json.loads(line)
        finally:
            s.close()

    def running(self, names=None):
        try:
            rows = self.call("status", {"names": names} if names else None)["result"]["workers"]
        except (OSError, ValueError, KeyError):
            return 0
        return sum(1 for r in rows if r.get("state") == "running"
                   and not r["path"] == "root")

    def status_cli(self):
        subprocess.run([self.vigilctl, "--socket", self.sock, "status"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def status_rpc(self):
        # The round trip to the reply's last byte: parsing 1.8 MB of JSON in Python (about
        # 20 ms on a quiet machine) is the client's cost, not the daemon's.
        line = self.call("status", raw=True)
        if b'"ok":true' not in line[:64]:
            raise RuntimeError("status failed: %r" % line[:200])

    def sends_by_id(self, n):
        """n sends to bare ids on one connection, each timed; None without in-process
        workers."""
        if self.n_inproc == 0:
            return None
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.sock)
        f = s.makefile("rwb")
        out = []
        try:
            for i in range(n + 1):
                self.next_id += 1
                req = {"v": 1, "id": self.next_id, "cmd": "send",
                       "args": {"target": "echo%d" % (i % self.n_inproc), "term": ":ping"}}
                t0 = time.perf_counter()
                f.write((json.dumps(req) + "\n").encode())
                f.flush()
                reply = json.loads(f.readline())
                if i > 0:  # the first warms the connection
                    out.append((time.perf_counter() - t0) * 1000.0)
                if not reply.get("ok"):
                    raise RuntimeError("send by id: %r" % reply)
        finally:
            f.close()
            s.close()
        return {"median_ms": round(statistics.median(out), 3), "p99_ms": round(pct(out, 99), 3),
                "total_ms": round(sum(out), 1), "sends": n}

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- measuring --------------------------------------------------------------------------------


def measure(d, idle, runs, sends):
    d.start()
    pid = d.proc.pid
    time.sleep(2.0)
    st = status_fields("/proc/%d/status" % pid)
    kids = children_of(pid)
    kid_rss = sum(kb(status_fields("/proc/%d/status" % k), "VmRSS") for k in kids)
    rec = {"scenario": d.name, "rss_kb": kb(st, "VmRSS"), "pss_kb": pss_kb(pid),
           "threads": len(threads(pid)), "children": len(kids), "children_rss_kb": kid_rss}
    c0, n0, s0, t0 = cpu_ticks(pid), cpu_ns(pid), switches(pid), time.monotonic()
    time.sleep(idle)
    c1, n1, s1, t1 = cpu_ticks(pid), cpu_ns(pid), switches(pid), time.monotonic()
    window = t1 - t0
    rec.update({"idle_s": round(window, 2),
                "idle_cpu_ms": round((c1 - c0) * 1000.0 / CLK_TCK, 1),
                "idle_cpu_sched_ms": round((n1 - n0) / 1e6, 3),
                "idle_wakeups": s1[0] - s0[0], "idle_invol": s1[1] - s0[1],
                "idle_wakeups_per_s": round((s1[0] - s0[0]) / window, 2)})
    # The daemon's own CPU per protocol status (all its threads, schedstat): what a loaded
    # machine inflates least, where the round trip mostly waits for a core.
    n0 = cpu_ns(pid)
    rec["status_rpc"] = timed(d.status_rpc, runs)
    rec["status_rpc_cpu_ms"] = round((cpu_ns(pid) - n0) / 1e6 / (runs + 1), 3)
    rec["status_cli"] = timed(d.status_cli, runs)
    rec["rss_after_status_kb"] = kb(status_fields("/proc/%d/status" % pid), "VmRSS")
    if hasattr(d, "sends_by_id"):
        by_id = d.sends_by_id(sends if sends > 0 else d.n_inproc)
        if by_id:
            rec["send_by_id"] = by_id
    rec["running_at_end"] = d.running()
    if rec["running_at_end"] != d.total:
        raise RuntimeError("%s: %d of %d running" % (d.name, rec["running_at_end"], d.total))
    return rec


def run(d, args):
    try:
        return measure(d, args.idle, args.runs, args.sends)
    finally:
        d.stop()


# -- table ------------------------------------------------------------------------------------


def mb(k):
    return "%.1f" % (k / 1024.0)


def table(recs, args):
    by = {r["scenario"]: r for r in recs}
    base = by.get("supervisord")
    cols = [r for r in recs]
    head = ["", *[r["label"] for r in cols]]
    rows = []

    def ratio(key, r):
        if not base or r is base or not base.get(key):
            return ""
        return " (%.2f×)" % (r[key] / base[key])

    def lat(key, r, sub):
        v = r[key][sub]
        if not base or r is base:
            return "%.2f" % v
        return "%.2f (%.2f×)" % (v, v / base[key][sub])

    rows.append(["daemon RSS, MB", *[mb(r["rss_kb"]) + ratio("rss_kb", r) for r in cols]])
    rows.append(["daemon PSS, MB", *[mb(r["pss_kb"]) + ratio("pss_kb", r) for r in cols]])
    rows.append(["daemon RSS after the status runs, MB",
                 *[mb(r["rss_after_status_kb"]) for r in cols]])
    rows.append(["daemon threads", *[str(r["threads"]) for r in cols]])
    rows.append(["child processes (their RSS, MB)",
                 *["%d (%s)" % (r["children"], mb(r["children_rss_kb"])) for r in cols]])
    rows.append(["idle CPU over %g s: utime+stime (10 ms ticks); schedstat, ms" % args.idle,
                 *["%.0f; %.2f" % (r["idle_cpu_ms"], r["idle_cpu_sched_ms"]) for r in cols]])
    rows.append(["idle wake-ups over %g s (voluntary switches, all threads)" % args.idle,
                 *["%d (%.1f/s)" % (r["idle_wakeups"], r["idle_wakeups_per_s"]) for r in cols]])
    for key, what in (("status_cli", "status via the CLI"), ("status_rpc", "status, protocol only")):
        rows.append(["%s, median ms" % what, *[lat(key, r, "median_ms") for r in cols]])
        rows.append(["%s, p99 ms" % what, *[lat(key, r, "p99_ms") for r in cols]])
    rows.append(["status, protocol only: daemon CPU per status, ms",
                 *["%.2f" % r["status_rpc_cpu_ms"] for r in cols]])
    if any("send_by_id" in r for r in cols):
        for sub, what in (("median_ms", "median ms"), ("p99_ms", "p99 ms"),
                          ("total_ms", "total ms")):
            rows.append(["send to a bare id (one connection), %s" % what,
                         *["%.2f" % r["send_by_id"][sub] if "send_by_id" in r else ""
                           for r in cols]])
    rows.append(["load average (1 min) after the scenario", *["%.1f" % r["load1"] for r in cols]])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--vigilctl", required=True)
    ap.add_argument("--n-os", type=int, default=100)
    ap.add_argument("--n-process", type=int, default=10,
                    help="of the mixed scenario's N_OS OS workers, how many are mode=process")
    ap.add_argument("--n-inproc", type=int, default=10000)
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--sends", type=int, default=0,
                    help="sends by id per in-process scenario (0: one per in-process worker)")
    ap.add_argument("--out", default="/tmp/daemon_compare.jsonl")
    ap.add_argument("--scenarios", default="supervisord,vigild-os,vigild-inproc,vigild-mixed")
    args = ap.parse_args()
    wanted = args.scenarios.split(",")
    recs = []
    root = tempfile.mkdtemp(prefix="vigil-daemon-compare-", dir="/tmp")
    try:
        plans = {
            "supervisord": ("supervisord, %d programs" % args.n_os,
                            lambda r: Supervisord(r, args.n_os)),
            "vigild-os": ("vigild, %d commands" % args.n_os,
                          lambda r: Vigild("vigild-os", r, args.vigild, args.vigilctl, 0,
                                           args.n_os, 0)),
            "vigild-inproc": ("vigild, %d in-process" % args.n_inproc,
                              lambda r: Vigild("vigild-inproc", r, args.vigild, args.vigilctl,
                                               args.n_inproc, 0, 0)),
            "vigild-mixed": ("vigild, %d in-process + %d OS (%d of them mode=process)"
                             % (args.n_inproc, args.n_os, args.n_process),
                             lambda r: Vigild("vigild-mixed", r, args.vigild, args.vigilctl,
                                              args.n_inproc, args.n_os - args.n_process,
                                              args.n_process)),
        }
        for name in wanted:
            if name == "supervisord" and not shutil.which("supervisord"):
                log("skipping supervisord: not installed (scripts/setup --bench)")
                continue
            label, make = plans[name]
            sub = os.path.join(root, name)
            os.makedirs(sub)
            d = make(sub)
            log("running", label)
            rec = run(d, args)
            rec["label"] = label
            rec["ts"] = int(time.time())
            rec["load1"] = os.getloadavg()[0]
            recs.append(rec)
            with open(args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(table(recs, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
