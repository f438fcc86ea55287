#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration test of vigild's OS-process children (docs/os-workers.md): the real daemon with
a process-mode worker and a command, driven by the real vigilctl.

Usage: vigild_os_test.py VIGILD VIGILCTL WHOAMI_PLUGIN
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Daemon, Failure, check, wait_for  # noqa: E402

OS_CONFIG = """
[daemon]
log_dir = "{logs}"
plugins = ["{whoami}"]

[[supervisor.children]]
id = "who"
kind = "whoami"
mode = "process"

[[supervisor.children]]
id = "jobs"
type = "supervisor"

  [[supervisor.children.children]]
  id = "limited"
  command = ["sh", "-c", "echo nofile=$(ulimit -n) hard=$(ulimit -Hn) core=$(ulimit -c); exec sleep 1000"]
  rlimits = {{ nofile = [100, 777], core = 0 }}
  shutdown = "2s"
"""


def os_alive(os_pid):
    try:
        with open("/proc/%d/stat" % os_pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def status_rows(d):
    return {row["path"]: row for row in d.ctl_json("status")["workers"]}


def run(vigild, vigilctl, whoami):
    """OS-process children: status and info of ports, routing to a pid inside a process-mode
    worker, per-child rlimits, the log directory, and no OS child left after a stop."""
    whoami = os.path.abspath(whoami)
    check(os.path.exists(whoami), "no whoami test plugin at " + whoami)
    d = Daemon(vigild, vigilctl, "")
    logs = os.path.join(d.dir, "logs")
    d.write_config(OS_CONFIG.format(logs=logs, whoami=whoami))
    try:
        d.start()
        rows = wait_for(lambda: (lambda r: r if all(isinstance(r[p].get("os_pid"), int)
                                                    for p in ("root/who", "root/jobs/limited"))
                                 else None)(status_rows(d)), "both OS children to run")
        limited = rows["root/jobs/limited"]["os_pid"]
        check(os_alive(limited), "status os_pid %r is not a live process" % limited)
        check(rows["root/jobs/limited"]["mode"] == "command"
              and rows["root/who"]["mode"] == "process", "status rows %r" % rows)
        check("OS_PID" in d.ctl("status").stdout and str(limited) in d.ctl("status").stdout,
              "vigilctl status lacks the OS pid")

        # Per-child rlimits reach the program, seen by itself and by /proc.
        wait_for(lambda: any("nofile=100 hard=777 core=0" in l["line"]
                             for l in d.ctl_json("logs", "limited")["lines"]),
                 "the child's line with its limits")
        with open("/proc/%d/limits" % limited) as f:
            files = [l for l in f if l.startswith("Max open files")][0].split()
        check(files[3:5] == ["100", "777"], "/proc limits: %r" % files)
        # The log file sits in daemon.log_dir, named after the child's path, which vigild
        # knows at once, before its event hub has learnt the nested supervisor's.
        with open(os.path.join(logs, "root%2Fjobs%2Flimited.log")) as f:
            check("stdout nofile=100 hard=777 core=0" in f.read(), "log file content")

        # info on a port: the OS child's process, resources and channel.
        info = d.ctl_json("info", "limited")["info"]
        check(info["os_pid"] == limited and info["log_key"] == "root/jobs/limited",
              "info %r" % info)
        check(info["rss_kb"] > 0 and info["cpu_ms"] >= 0 and info["uptime_ms"] >= 0,
              "info resources %r" % info)
        check(info["restarts"] == 0 and info["attached"] is False, "info %r" % info)
        check(info["ring_to_worker_bytes"] == 0 and info["ring_from_worker_bytes"] == 0,
              "ring depths %r" % info)
        who = d.ctl_json("info", "who")["info"]
        check(who["program"] == "vigil-worker whoami" and who["node"] > 0, "info who %r" % who)
        text = d.ctl("info", "who").stdout
        for key in ("os_pid", "rss_kb", "cpu_ms", "uptime_ms", "ring_to_worker_bytes"):
            check(key in text, "vigilctl info lacks %s:\n%s" % (key, text))

        # A pid inside the worker, as the worker tells it, is reachable with vigilctl send.
        out = d.ctl("send", "who", "{self(), :whoami}", "--await", "10s").stdout
        inside = out[out.index("#PID<"):out.index(">", out.index("#PID<")) + 1]
        check(inside.startswith("#PID<%d." % who["node"]), "worker pid %r, info %r" % (out, who))
        out = d.ctl("send", inside, "{self(), :routed}", "--await", "10s").stdout
        check("{:got, :routed, %s}" % inside in out, "send to %s: %r" % (inside, out))

        # A killed OS child is restarted; info counts it.
        os.kill(limited, signal.SIGKILL)
        wait_for(lambda: status_rows(d)["root/jobs/limited"].get("os_pid") not in (None, limited),
                 "the command to restart")
        check(d.ctl_json("info", "limited")["info"]["restarts"] == 1, "restarts after a kill")
        wait_for(lambda: sum("nofile=100" in l["line"]
                             for l in d.ctl_json("logs", "limited")["lines"]) == 2,
                 "the restarted child's line under the same path")
        with open(os.path.join(logs, "root%2Fjobs%2Flimited.log")) as f:
            check(f.read().count("stdout nofile=100 hard=777 core=0") == 2,
                  "log file after restart")
        pids_now = [r["os_pid"] for r in status_rows(d).values() if r.get("os_pid")]

        # Stopping vigild stops every OS child before it exits.
        d.signal(signal.SIGTERM)
        check(d.wait() == 0, "exit code after SIGTERM")
        check(not any(os_alive(p) for p in pids_now), "an OS child outlived vigild")
    finally:
        d.cleanup()

    bad = Daemon(vigild, vigilctl, '[[supervisor.children]]\nid = "x"\ncommand = ["true"]\n'
                 'rlimits = { nofiles = 10 }\n')
    try:
        r = subprocess.run([vigild, "--check-config", "--config", bad.config],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 100, "exit code %d for an unknown rlimit" % r.returncode)
        check("vigil.toml:4:23: supervisor.children[0].rlimits.nofiles: expected a resource "
              "limit" in r.stderr and 'did you mean "nofile"' in r.stderr, r.stderr)
    finally:
        bad.cleanup()


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        run(*argv[1:])
    except Failure as e:
        print("FAIL: os: %s" % e, file=sys.stderr)
        return 1
    print("ok: os")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
