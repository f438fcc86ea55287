#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of readiness and the exit-code policy (docs/readiness.md), through the
real vigild and vigilctl. Children are the built-in `ready_when_told` kind (ready = "notify": ready once
sent :ready or after ready_after) and real commands (sh -c 'exit N'). Every wait is on an
event or a state, never on a sleep, and no case asserts a wall-clock figure.

Usage: readiness_test.py VIGILD VIGILCTL SOURCE_DIR CASE
"""

import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Daemon, check, run_case, wait_for  # noqa: E402

# db -> app -> proxy, each started only once the one before it is ready. db takes its time;
# app and proxy are ready as soon as they are started.
CHAIN = """
[supervisor]
strategy = "rest_for_one"
intensity = 10

[[supervisor.children]]
id = "db"
kind = "ready_when_told"
args = { ready_after = "%s" }
ready = "notify"
ready_timeout = "60s"

[[supervisor.children]]
id = "app"
kind = "ready_when_told"
args = { ready_after = "1ms" }
ready = "notify"

[[supervisor.children]]
id = "proxy"
kind = "ready_when_told"
args = { ready_after = "1ms" }
ready = "notify"
"""


class Logged(Daemon):
    """A Daemon whose log is printed when a check fails, to see why."""

    def cleanup(self):
        if sys.exc_info()[0] is not None and os.path.exists(self.log):
            print("vigild's log:\n" + self.read_log()[-4000:], file=sys.stderr)
        super().cleanup()


def rows(d):
    return {r["id"]: r for r in d.ctl_json("status")["workers"]}


def row_in(d, name, *states):
    r = d.ctl("--json", "status", name, expect=None)
    if r.returncode != 0:
        return False
    row = json.loads(r.stdout.splitlines()[0])["workers"][0]
    return row if row["state"] in states else False


def case_chain(vigild, vigilctl, source):
    """vigild says READY=1 only once the whole chain is ready; a killed db restarts app and
    proxy only after it is ready again, and status shows db `starting` until then."""
    d = Logged(vigild, vigilctl, CHAIN % "1500ms")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_path = os.path.join(d.dir, "notify.sock")
    notify.bind(notify_path)
    notify.settimeout(30)
    try:
        d.start(expect_ready=False, extra_env={"NOTIFY_SOCKET": notify_path})
        said = ""
        waiting_seen = False
        while "READY=1" not in said:
            said = notify.recv(4096).decode()
            if "READY=1" not in said and "STATUS=starting: root/db waits for notify" in said:
                waiting_seen = True
        check(waiting_seen, "STATUS named db while it started")
        status = rows(d)
        for name in ("db", "app", "proxy"):
            check(status[name]["state"] == "running", "%s at READY=1: %r" % (name, status[name]))

        old_app = status["app"]["pid"]
        d.ctl("kill", "db")
        # db and app from one status: db is ready 1.5 s after its start, and a second look
        # that came later (a busy machine) would find app rightly running again.
        status = wait_for(lambda: (lambda r: r if r["db"]["state"] == "starting" else None)(
            rows(d)), "db to be starting again")
        db, app = status["db"], status["app"]
        check("waiting for notify" in db.get("reason", ""), "db says what it waits for: %r" % db)
        check(app["state"] != "running", "app waits for db: %r" % app)
        wait_for(lambda: row_in(d, "proxy", "running"), "proxy to run again")
        status = rows(d)
        check(status["app"]["pid"] != old_app, "app was restarted")
        check(status["db"]["uptime_ms"] >= status["app"]["uptime_ms"] >= status["proxy"]["uptime_ms"],
              "started in order: %r" % status)
    finally:
        notify.close()
        d.cleanup()


def case_timeout(vigild, vigilctl, source):
    """A child that is never ready is killed at ready_timeout: under hold it is held as failed
    with {:not_ready, ...}, and the children after it start."""
    d = Logged(vigild, vigilctl, """
[supervisor]
on_max_restarts = "hold"
hold_retry = "0s"

[[supervisor.children]]
id = "never"
kind = "ready_when_told"
ready = "notify"
ready_timeout = "300ms"

[[supervisor.children]]
id = "after"
kind = "echo"
""")
    try:
        d.start()
        status = rows(d)
        check(status["never"]["state"] == "failed", "never: %r" % status["never"])
        check("not_ready" in status["never"]["reason"], "reason: %r" % status["never"])
        check(status["after"]["state"] == "running", "after: %r" % status["after"])
    finally:
        d.cleanup()


def case_exit_codes(vigild, vigilctl, source):
    """success_exit_codes: a transient command that exits 3 is not restarted and ends as
    normal; no_restart_exit_codes: a permanent one that exits 64 stays stopped with its
    reason, and `vigilctl restart` starts it again."""
    d = Logged(vigild, vigilctl, """
[[supervisor.children]]
id = "done"
command = ["sh", "-c", "exit 3"]
restart = "transient"
success_exit_codes = [0, 3]

[[supervisor.children]]
id = "fatal"
command = ["sh", "-c", "exit 64"]
no_restart_exit_codes = [64]

[[supervisor.children]]
id = "flaky"
command = ["sh", "-c", "exit 4"]
restart = "transient"
success_exit_codes = [3]
""")
    try:
        d.start()
        fatal = wait_for(lambda: row_in(d, "fatal", "stopped"), "fatal to stop for good")
        check(fatal.get("reason") == "{:exit_status, 64}", "fatal's reason: %r" % fatal)
        wait_for(lambda: row_in(d, "done", "stopped", "ended"), "done to end")
        info = d.ctl_json("info", "done")["info"]
        check(info["restarts"] == 0, "done was not restarted: %r" % info)
        # An exit status that is not listed is still a crash: flaky is restarted.
        wait_for(lambda: d.ctl_json("info", "flaky")["info"].get("restarts", 0) >= 1
                 or rows(d)["flaky"]["restarts"] >= 1, "flaky to be restarted")
        check("root/done" not in d.read_log().split("supervisor report")[-1]
              or "exit_status, 3" not in d.read_log(), "done is no crash report")
        check(rows(d)["fatal"]["restarts"] == 0, "fatal was not restarted")
        d.ctl("restart", "fatal")
        wait_for(lambda: rows(d)["fatal"]["restarts"] >= 1, "fatal to start again on request")
    finally:
        d.cleanup()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    sys.exit(run_case(sys.argv, CASES, __doc__))
