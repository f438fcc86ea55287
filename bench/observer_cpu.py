#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""vigild's CPU with the observer's page open and N in-process children (docs/benchmarks.md,
"Observer"), and whether the page keeps up.

Starts a vigild with N echo workers under one supervisor and [observer] on loopback TCP,
opens the page in real headless Chromium (as tests/integration/observer_browser_test.py
does) and waits until it shows the tree (the page draws a long list of children 200 at a
time, so the probes use children among the first drawn). Then, reading vigild's utime+stime from
/proc/PID/stat (and the browser's, summed over chromedriver's descendants):

  idle, no page   vigild for IDLE_NO_PAGE s before the page is opened;
  idle, page open vigild and the browser for IDLE s;
  probes, idle    kill a child PROBES times; each time, the page's own JS times the
                  kill (sent just after its clock starts) to the first frame whose node
                  for that child shows a new pid;
  burst           BURST kills of distinct children, one after another on one control
                  connection (each answered before the next), while probes go on, and
                  the page's event-loop stalls are recorded (a 50 ms interval timer's
                  lateness); vigild's CPU over the burst, and until the page shows the
                  last killed child back.

One JSON line goes to --out. Usage:
  observer_cpu.py --vigild PATH [--children 10000] [--burst 1000] [--idle 30]
                  [--idle-no-page 10] [--probes 5] [--out FILE]
Needs Debian's chromium, chromium-driver and python3-selenium (scripts/setup).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench_daemon import stop_daemon

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:
    # Debian's python3-selenium lives in the system's python, not in a pyenv's.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise SystemExit("observer_cpu: needs python3-selenium (scripts/setup)")

TICK = os.sysconf("SC_CLK_TCK")
PID_RE = re.compile(r"#PID<[0-9.]+>")


def cpu_seconds(pid):
    """utime + stime of one process, in seconds (0 if it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def descendants(root):
    """root and every process under it."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


class Meter:
    """CPU seconds of vigild and of the browser over a window."""

    def __init__(self, vigild_pid, browser_root):
        self.vigild_pid = vigild_pid
        self.browser_root = browser_root

    def read(self):
        browser = sum(cpu_seconds(p) for p in descendants(self.browser_root)) \
            if self.browser_root else 0.0
        return time.monotonic(), cpu_seconds(self.vigild_pid), browser

    @staticmethod
    def window(start, end):
        wall = end[0] - start[0]
        return {"wall_s": round(wall, 2), "vigild_cpu_s": round(end[1] - start[1], 3),
                "vigild_cpu_pct": round(100 * (end[1] - start[1]) / wall, 2),
                "browser_cpu_s": round(end[2] - start[2], 3),
                "browser_cpu_pct": round(100 * (end[2] - start[2]) / wall, 2)}


class Control:
    """The control socket's protocol: one JSON line each way."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def call(self, cmd, args):
        self.sock.sendall((json.dumps({"v": 1, "id": self.next_id, "cmd": cmd, "args": args})
                           + "\n").encode())
        self.next_id += 1
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise SystemExit("vigild closed the control connection")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            reply = json.loads(line)
            if "event" not in reply:
                if not reply.get("ok", True):
                    raise SystemExit("%s %r failed: %r" % (cmd, args, reply))
                return reply

    def close(self):
        self.sock.close()


def node_text(b, path):
    return b.execute_script(
        "const n = document.querySelector(arguments[0]); return n ? n.textContent : '';",
        'li[data-path="%s"] > .node' % path)


def wait_until(what, pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit("observer_cpu: timed out waiting for " + what)


# Started in the page just before a kill: polls the child's node every 5 ms (the page
# rebuilds the tree, so the node is looked up each time) and notes when a new pid shows.
PROBE_JS = """
const [path, old] = arguments;
const probe = {t0: performance.now(), t1: null};
window.__probe = probe;
const sel = 'li[data-path="' + path + '"] > .node';
(function tick() {
  const n = document.querySelector(sel);
  const m = n && n.textContent.match(/#PID<[0-9.]+>/);
  if (m && m[0] !== old && n.textContent.includes("running")) probe.t1 = performance.now();
  else setTimeout(tick, 5);
})();
"""

# How late a 50 ms interval timer fires: the page's longest stalls of its event loop.
LAG_JS = """
window.__lag = [];
let last = performance.now();
window.__lagTimer = setInterval(() => {
  const now = performance.now();
  window.__lag.push(Math.max(0, now - last - 50));
  last = now;
}, 50);
"""


def probe(b, ctl, path, timeout=120):
    """ms from the kill to the page showing `path` running with a new pid."""
    old = wait_until("a pid for " + path, lambda: (PID_RE.findall(node_text(b, path)) or [None])[0],
                     timeout)
    b.execute_script(PROBE_JS, path, old)
    ctl.call("kill", {"target": path})
    got = wait_until("the page to show %s's new pid" % path,
                     lambda: b.execute_script("const p = window.__probe; "
                                              "return p.t1 === null ? null : p.t1 - p.t0;"),
                     timeout)
    return round(got, 1)


def summary(values):
    values = sorted(values)
    return {"n": len(values), "p50": round(statistics.median(values), 1),
            "max": round(values[-1], 1)} if values else {"n": 0}


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-proxy-server", "--window-size=1280,720"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--children", type=int, default=10000)
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--idle-no-page", type=float, default=10)
    ap.add_argument("--probes", type=int, default=5)
    ap.add_argument("--out", default="/tmp/observer_cpu.jsonl")
    a = ap.parse_args()
    if a.burst + 2 * a.probes + 1 > a.children:
        raise SystemExit("observer_cpu: --children must exceed --burst + 2 * --probes")
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        raise SystemExit("observer_cpu: needs chromium and chromium-driver (scripts/setup)")
    vigild = os.path.abspath(a.vigild)
    root = tempfile.mkdtemp(prefix="vigil-observer-cpu-")
    control = os.path.join(root, "control.sock")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(root, "vigil.toml")
    lines = ['[observer]', 'listen = "tcp://127.0.0.1:%d"' % port, 'token = "bench"', '',
             '[supervisor]', 'strategy = "one_for_one"', 'intensity = 1000000', 'period = "1s"',
             '']
    for i in range(a.children):
        lines += ['[[supervisor.children]]', 'id = "echo%d"' % i, 'kind = "echo"', '']
    with open(conf, "w") as f:
        f.write("\n".join(lines))
    log = open(os.path.join(root, "vigild.log"), "wb")
    proc = subprocess.Popen([vigild, "--foreground", "--config", conf, "--socket", control],
                            stdout=log, stderr=subprocess.STDOUT, cwd=root)
    b = None
    result = {"bench": "observer_cpu", "children": a.children, "burst": a.burst,
              "load_before": os.getloadavg()[0]}
    try:
        wait_until("vigild's control socket", lambda: os.path.exists(control), 120)
        ctl = wait_until("a control connection", lambda: _connect(control), 120)
        wait_until("the tree", lambda: _running(ctl, a.children), 300)

        meter = Meter(proc.pid, None)
        start = meter.read()
        time.sleep(a.idle_no_page)  # the measurement window
        result["idle_no_page"] = Meter.window(start, meter.read())

        b = browser()
        meter = Meter(proc.pid, b.service.process.pid)
        t0 = time.monotonic()
        b.get("http://127.0.0.1:%d/?token=bench" % port)
        # The probes' children and the burst's last kill are among the first children, which
        # the page draws; the rest of the burst kills children it has not drawn.
        marker = "root/echo%d" % (2 * a.probes)
        wait_until("the page to show the tree",
                   lambda: "running" in node_text(b, marker), 300)
        result["page_load_s"] = round(time.monotonic() - t0, 2)

        start = meter.read()
        time.sleep(a.idle)  # the measurement window
        result["idle_page_open"] = Meter.window(start, meter.read())

        probes = ["root/echo%d" % i for i in range(2 * a.probes)]
        result["probe_idle_ms"] = summary([probe(b, ctl, p) for p in probes[:a.probes]])

        b.execute_script(LAG_JS)
        burst_ctl = Control(control)
        done = {}

        def burst():
            for i in range(a.children - a.burst + 1, a.children):
                burst_ctl.call("kill", {"target": "root/echo%d" % i})
            burst_ctl.call("kill", {"target": marker})
            done["at"] = meter.read()

        old_last = PID_RE.findall(node_text(b, marker))[0]
        start = meter.read()
        killer = threading.Thread(target=burst)
        killer.start()
        during = []
        for p in probes[a.probes:]:
            if "at" in done:
                break
            during.append(probe(b, ctl, p))
        killer.join()
        burst_ctl.close()
        result["burst"] = Meter.window(start, done["at"])
        result["burst"]["kills_per_s"] = round(a.burst / result["burst"]["wall_s"], 1)
        wait_until("the page to show the last killed child back",
                   lambda: (lambda t: "running" in t and old_last not in t and PID_RE.search(t))(
                       node_text(b, marker)), 300)
        result["burst_until_page_settled"] = Meter.window(start, meter.read())
        result["probe_during_burst_ms"] = summary(during)
        lag = b.execute_script("clearInterval(window.__lagTimer); return window.__lag;")
        result["page_stall_ms"] = {"p50": round(statistics.median(lag), 1) if lag else 0,
                                   "max": round(max(lag), 1) if lag else 0, "samples": len(lag)}
        result["load_after"] = os.getloadavg()[0]
        if proc.poll() is not None:
            raise SystemExit("vigild died; see " + log.name)
        ctl.close()
        print(json.dumps(result, indent=1))
        with open(a.out, "a") as f:
            f.write(json.dumps(result) + "\n")
    finally:
        if b is not None:
            b.quit()
        stop_daemon(proc, root)


def _connect(path):
    try:
        return Control(path)
    except OSError:
        return None


def _running(ctl, n):
    workers = ctl.call("status", {})["result"]["workers"]
    return len(workers) >= n and all(w.get("state") == "running" for w in workers)


if __name__ == "__main__":
    main()
