#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of failure domains (docs/supervision.md, "Failure domains"): one broken
program never takes down the rest. Through the real vigild and vigilctl, each case asserts
what the log, `status` and the healthy siblings' os_pids show. Every wait is on an event or
a state, never on a sleep, and no case asserts a wall-clock figure.

Usage: failure_domains_test.py VIGILD VIGILCTL SOURCE_DIR CASE
"""

import json
import os
import shutil
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Client, Daemon, Failure, check, run_case, wait_for  # noqa: E402

HEALTHY = """
[[supervisor.children]]
id = "good1"
command = ["sleep", "1000"]
shutdown = "2s"

[[supervisor.children]]
id = "good2"
command = ["sleep", "1001"]
shutdown = "2s"
"""


class Logged(Daemon):
    """A Daemon whose log is printed when a check fails, to see why."""

    def cleanup(self):
        if sys.exc_info()[0] is not None and os.path.exists(self.log):
            print("vigild's log:\n" + self.read_log()[-4000:], file=sys.stderr)
        super().cleanup()


def rows(d, *names):
    return {r["id"]: r for r in d.ctl_json("status", *names)["workers"]}


def os_pids(d, *ids):
    status = rows(d)
    return {i: status[i]["os_pid"] for i in ids}


def state_is(d, name, state):
    r = d.ctl("--json", "status", name, expect=None)
    if r.returncode != 0:
        return False
    row = json.loads(r.stdout.splitlines()[0])["workers"][0]
    return row if row["state"] == state else False


def info_with_exits(d, name):
    """`vigilctl info` of a child that keeps restarting, once it shows its last exits. A run
    that ends between vigild's lookup of its pid and its look at that process is answered
    "is not alive" (the index still names it); and a run that just started is in the index a
    moment before its exits are: both are looked at again."""
    r = d.ctl("--json", "info", name, expect=None)
    if r.returncode != 0 and "is not alive" in r.stderr:
        return None
    check(r.returncode == 0, "vigilctl info %s exited %d: %s" % (name, r.returncode, r.stderr))
    info = json.loads(r.stdout.splitlines()[0])["info"]
    return info if info.get("exits") else None


def reports(follower, first, pred, what):
    """The supervisor_report events of the follow reply `first`, then those read after it,
    until pred(all seen) holds; returns them."""
    seen = [e for e in first["result"]["events"] if e.get("event") == "supervisor_report"]
    while not pred(seen):
        event = follower.read_line()
        if event is None:
            raise Failure("the event stream ended while waiting for " + what + ": %r" % seen)
        if event.get("event") == "supervisor_report":
            seen.append(event)
    return seen


def case_boot_missing(vigild, vigilctl, source):
    """A missing program at boot beside two healthy commands: vigild runs and says READY
    with a STATUS naming the failed child; the bad one is failed with its reason."""
    d = Logged(vigild, vigilctl, """
[supervisor]
hold_retry = "0s"
""" + HEALTHY + """
[[supervisor.children]]
id = "bad"
command = ["/nonexistent/vigil-test-program"]
""")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_path = os.path.join(d.dir, "notify.sock")
    notify.bind(notify_path)
    notify.settimeout(10)
    try:
        d.start(extra_env={"NOTIFY_SOCKET": notify_path})
        ready = ""
        while "READY=1" not in ready:
            ready = notify.recv(4096).decode()
        check("failed: root/bad" in ready, "READY's STATUS names the failed child: %r" % ready)
        status = rows(d)
        check(status["bad"]["state"] == "failed", "bad: %r" % status["bad"])
        check("No such file" in status["bad"]["reason"], "reason: %r" % status["bad"])
        check(status["bad"]["retry_ms"] is None, "hold_retry 0s: no retry: %r" % status["bad"])
        for good in ("good1", "good2"):
            check(status[good]["state"] == "running" and status[good]["os_pid"],
                  "%s: %r" % (good, status[good]))
        log = d.read_log()
        check("supervisor report: root/bad failed to start" in log, log)
        check("decision: failed, held" in log, log)
        check(d.proc.poll() is None, "vigild runs")
    finally:
        notify.close()
        d.cleanup()


def case_crash_loop(vigild, vigilctl, source):
    """A crash loop beside healthy children: they keep their os_pid, vigild stays up, the
    loop backs off (first restart immediate, then delays), then is held as failed and retried
    on a doubling schedule, capped. Each report quotes the last stderr line of its own run,
    unterminated as a program's last words may be."""
    d = Logged(vigild, vigilctl, """
[supervisor]
intensity = 3
period = "1h"
hold_retry = "200ms"
hold_retry_max = "400ms"
""" + HEALTHY + """
[[supervisor.children]]
id = "loop"
command = ["sh", "-c", "printf 'cannot bind, pid %s' $$ >&2; exit 1"]
backoff = { immediate = 1, initial = "20ms", max = "40ms", jitter = 0.0 }
""")
    try:
        d.start()
        before = os_pids(d, "good1", "good2")
        follower = Client(d.socket)
        first = follower.call("events", {"follow": True, "last": 1000})

        def loop_failed(n):
            return lambda seen: sum(1 for e in seen if e["path"] == "root/loop"
                                    and e["decision"] == "failed") >= n

        seen = [e for e in reports(follower, first, loop_failed(4), "four holds of root/loop")
                if e["path"] == "root/loop"]
        decisions = [e["decision"] for e in seen]
        check(decisions[0] == "restart", "the first restart is immediate: %r" % decisions)
        check(decisions[1:3] == ["backoff", "backoff"], "then it backs off: %r" % decisions)
        check([e["delay_ms"] for e in seen[1:3]] == [20, 40], "delays: %r" % seen[1:3])
        failed = [e for e in seen if e["decision"] == "failed"]
        check(failed[0]["restarts"] == 4 and failed[0]["intensity"] == 3,
              "held over its budget: %r" % failed[0])
        check([e["delay_ms"] for e in failed[:4]] == [200, 400, 400, 400],
              "the retry doubles up to hold_retry_max: %r" % failed)
        check(all(e.get("os_pid") for e in seen if e.get("pid")), "os_pid in reports: %r" % seen)
        # Read before the exit is reported: its own run's line, not the one before's.
        stale = [e for e in seen if e.get("os_pid")
                 and (e.get("stderr") or [""])[-1] != "cannot bind, pid %d" % e["os_pid"]]
        check(not stale, "reports without their own run's last stderr line: %r" % stale)
        follower.close()
        check(d.proc.poll() is None, "vigild stays up")
        check(os_pids(d, "good1", "good2") == before, "the healthy siblings kept their os_pid")
        # Held, the loop is retried every 400 ms: a single look may meet a retry in flight
        # (restarting, then running for as long as sh takes), so wait for it held again.
        loop = wait_for(lambda: state_is(d, "loop", "failed"), "loop to be held as failed")
        check(loop["retry_ms"] is not None, "a held loop is not retried: %r" % loop)
        log = d.read_log()
        check("supervisor report: root/loop pid" in log and "exited with {:exit_status, 1}" in log,
              log)
        check("decision: back off 20ms" in log and "decision: failed, held; retry in 200ms" in log,
              log)
        # A command's report quotes what it last wrote to stderr.
        check('; last stderr: "cannot bind, pid ' in log, log)
        why = wait_for(lambda: info_with_exits(d, "loop"), "info of loop with its last exits")
        check(why["exits"][-1]["reason"] == "{:exit_status, 1}",
              "info shows the last exits: %r" % why)
    finally:
        d.cleanup()


def case_deleted_binary(vigild, vigilctl, source):
    """A running child's binary is deleted and the child killed: it cannot start again and is
    held as failed; its siblings are untouched."""
    d = Logged(vigild, vigilctl, "")
    program = os.path.join(d.dir, "mysleep")
    shutil.copy("/bin/sleep", program)
    os.chmod(program, 0o755)
    d.write_config("""
[supervisor]
hold_retry = "0s"
""" + HEALTHY + """
[[supervisor.children]]
id = "doomed"
command = ["%s", "1002"]
""" % program)
    try:
        d.start()
        before = os_pids(d, "good1", "good2", "doomed")
        check(before["doomed"], "doomed runs: %r" % before)
        os.unlink(program)
        os.kill(before["doomed"], signal.SIGKILL)
        # Its restarts fail (ENOENT) and back off (1 s, 2 s) before it is held: a generous bound.
        row = wait_for(lambda: state_is(d, "doomed", "failed"), "doomed to be failed",
                       timeout=60)
        check("No such file" in row["reason"], "reason: %r" % row)
        check(d.proc.poll() is None, "vigild stays up")
        check(os_pids(d, "good1", "good2") == {k: before[k] for k in ("good1", "good2")},
              "siblings unaffected")
        log = d.read_log()
        check("supervisor report: root/doomed pid" in log, log)
        check("os_pid %d exited with {:signal, :SIGKILL}" % before["doomed"] in log, log)
    finally:
        d.cleanup()


def case_reload_failing(vigild, vigilctl, source):
    """A reload whose new children fail to start: vigilctl names each and exits non-zero;
    they are failed in status, the others run on."""
    d = Logged(vigild, vigilctl, HEALTHY)
    try:
        d.start()
        before = os_pids(d, "good1", "good2")
        d.write_config(HEALTHY + """
[[supervisor.children]]
id = "new1"
command = ["/nonexistent/new-one"]

[[supervisor.children]]
id = "new2"
command = ["/nonexistent/new-two"]
""")
        r = d.ctl("reload", expect=1)
        check("root/new1" in r.stderr and "root/new2" in r.stderr, "names them: %r" % r.stderr)
        check("2 step(s) failed" in r.stdout, "stdout: %r" % r.stdout)
        status = rows(d)
        for new in ("new1", "new2"):
            check(status[new]["state"] == "failed", "%s: %r" % (new, status[new]))
        check(os_pids(d, "good1", "good2") == before, "the others run on")
    finally:
        d.cleanup()


def case_start_restart(vigild, vigilctl, source):
    """start/restart/status of failed, stopped and ended temporary children, by id and by
    path."""
    d = Logged(vigild, vigilctl, "")
    program = os.path.join(d.dir, "later")
    d.write_config("""
[supervisor]
hold_retry = "0s"
""" + HEALTHY + """
[[supervisor.children]]
id = "late"
command = ["%s", "1003"]

[[supervisor.children]]
id = "once"
command = ["true"]
restart = "temporary"
""" % program)
    try:
        d.start()
        # failed: status by id and path; once the program exists, start brings it up.
        wait_for(lambda: state_is(d, "late", "failed"), "late to be failed")
        check(state_is(d, "root/late", "failed"), "status by path")
        shutil.copy("/bin/sleep", program)
        os.chmod(program, 0o755)
        d.ctl("start", "late")
        check(state_is(d, "late", "running"), "started by id")
        # stopped: status, then start by path and restart by id.
        d.ctl("stop", "good1")
        check(state_is(d, "good1", "stopped"), "stopped")
        d.ctl("start", "root/good1")
        check(state_is(d, "good1", "running"), "started by path")
        d.ctl("stop", "good1")
        d.ctl("restart", "good1")
        check(state_is(d, "root/good1", "running"), "restarted by id")
        # ended temporary: status, start by id, restart by id and by path.
        wait_for(lambda: state_is(d, "once", "ended"), "once to end")
        check(state_is(d, "root/once", "ended"), "status by path")
        d.ctl("start", "once")
        wait_for(lambda: state_is(d, "once", "ended"), "once to end again")
        d.ctl("restart", "once")
        wait_for(lambda: state_is(d, "once", "ended"), "once to end a third time")
        d.ctl("restart", "root/once")
        d.ctl("logs", "once")
        # a failed child restarted by path.
        os.unlink(program)
        d.ctl("stop", "late")
        r = d.ctl("restart", "root/late", expect=1)
        check("No such file" in r.stderr, r.stderr)
        check(state_is(d, "late", "failed"), "failed again, with its reason")
    finally:
        d.cleanup()


def case_escalate(vigild, vigilctl, source):
    """The strict OTP behaviour when chosen: escalation up to vigild's exit, and the log's
    last lines say which child and which limit."""
    d = Logged(vigild, vigilctl, """
[supervisor]
on_max_restarts = "escalate"
intensity = 2
period = "1h"
crash_backoff = false
""" + HEALTHY + """
[[supervisor.children]]
id = "crasher"
command = ["sh", "-c", "exit 3"]
""")
    try:
        d.start(expect_ready=False)
        check(d.wait() == 111, "exit code after the root gave up")
        lines = d.read_log().strip().splitlines()
        tail = "\n".join(lines[-4:])
        check("the root supervisor gave up: root/crasher exited with {:exit_status, 3}" in tail,
              tail)
        check("over the root's intensity 2" in tail and "in 3600s" in tail, tail)
        check("decision: escalate" in d.read_log(), d.read_log())
    finally:
        d.cleanup()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    sys.exit(run_case(sys.argv, CASES, __doc__))
