#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One command crash-looping beside 10 healthy ones, under vigild and under supervisord in
the same run: the supervisor's CPU time (user + system, from /proc/PID/stat) over the
window, the crashing program's starts, and that the healthy ones kept their pids
(docs/benchmarks.md, "Crash loops"; issue #18's target: under 1 % of one core and no more
than supervisord).

    bench/crashloop_compare.sh [BUILD_DIR] [SECONDS]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CRASH = 'echo cannot bind >&2; echo start >> %s; exit 1'
TICK = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICK  # utime, stime


def children_of(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def wait_for(pred, what, limit=60):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    sys.exit("crashloop_compare: timed out waiting for " + what)


def measure(name, proc, starts_file, seconds, healthy):
    wait_for(lambda: len(children_of(proc.pid)) >= healthy, name + "'s children")
    before_pids = sorted(p for p in children_of(proc.pid))
    c0, t0 = cpu_ms(proc.pid), time.monotonic()
    time.sleep(seconds)  # the measurement window itself, not a wait for an event
    c1, t1 = cpu_ms(proc.pid), time.monotonic()
    after_pids = set(children_of(proc.pid))
    kept = sum(1 for p in before_pids if p in after_pids)
    with open(starts_file) as f:
        starts = sum(1 for _ in f)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    used = c1 - c0
    return {"supervisor": name, "window_s": round(t1 - t0, 1), "cpu_ms": round(used, 1),
            "core_percent": round(100 * used / ((t1 - t0) * 1000), 3),
            "crasher_starts": starts, "healthy_kept_pid": kept}


def run_vigild(args, d):
    starts = os.path.join(d, "vigild.starts")
    open(starts, "w").close()
    lines = ['[supervisor]', 'strategy = "one_for_one"', '']
    for i in range(args.healthy):
        lines += ['[[supervisor.children]]', 'id = "ok%d"' % i,
                  'command = ["sleep", "100000"]', '']
    lines += ['[[supervisor.children]]', 'id = "crashloop"',
              'command = ["sh", "-c", %s]' % json.dumps(CRASH % starts), '']
    cfg = os.path.join(d, "vigil.toml")
    with open(cfg, "w") as f:
        f.write("\n".join(lines))
    log = open(os.path.join(d, "vigild.log"), "w")
    proc = subprocess.Popen([args.vigild, "--foreground", "--config", cfg, "--socket",
                             os.path.join(d, "run", "control.sock")], stdout=log, stderr=log)
    return measure("vigild", proc, starts, args.seconds, args.healthy)


def run_supervisord(args, d):
    starts = os.path.join(d, "supervisord.starts")
    open(starts, "w").close()
    conf = ["[supervisord]", "nodaemon=true", "logfile=%s/supervisord.log" % d,
            "pidfile=%s/supervisord.pid" % d, "childlogdir=%s" % d,
            "[unix_http_server]", "file=%s/supervisor.sock" % d,
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface"]
    for i in range(args.healthy):
        conf += ["[program:ok%d]" % i, "command=sleep 100000", "autorestart=true"]
    conf += ["[program:crashloop]", "command=sh -c '%s'" % (CRASH % starts),
             "autorestart=true", "startsecs=1", "startretries=3"]
    path = os.path.join(d, "supervisord.conf")
    with open(path, "w") as f:
        f.write("\n".join(conf) + "\n")
    proc = subprocess.Popen(["supervisord", "-c", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return measure("supervisord", proc, starts, args.seconds, args.healthy)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigild", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--healthy", type=int, default=10)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="crashloop-")
    try:
        rows = []
        if shutil.which("supervisord"):
            rows.append(run_supervisord(args, d))
        rows.append(run_vigild(args, d))
        for r in rows:
            print(json.dumps(r))
        if len(rows) == 2 and rows[0]["cpu_ms"] > 0:
            print("vigild / supervisord CPU: %.2f" % (rows[1]["cpu_ms"] / rows[0]["cpu_ms"]))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
