#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A child's slow stop does not freeze its supervisor (docs/erlang-semantics.md, 23): while
`vigilctl stop` waits for a program that ignores SIGTERM (its `shutdown` is an hour), the
root supervisor still restarts a sibling that crashes and serves `vigilctl restart` of
another child; the stop's reply comes once the slow program is dead. Waits are on states,
never sleeps; no case asserts a wall-clock figure.

Usage: async_stop_test.py VIGILD VIGILCTL SOURCE_DIR CASE
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Daemon, check, run_case, wait_for  # noqa: E402

CONFIG = """
[supervisor]
intensity = 100
period = "1s"
crash_backoff = false

[[supervisor.children]]
id = "slow"
command = ["sh", "-c", "trap '' TERM; echo slow-up; exec sleep 100000"]
shutdown = "1h"

[[supervisor.children]]
id = "sibling"
command = ["sleep", "100000"]

[[supervisor.children]]
id = "other"
command = ["sleep", "100000"]
"""


class Logged(Daemon):
    """A Daemon whose log tail is printed when a check fails."""

    def cleanup(self):
        if sys.exc_info()[0] is not None and os.path.exists(self.log):
            print("vigild's log:\n" + self.read_log()[-3000:], file=sys.stderr)
        super().cleanup()


def row(d, name):
    return d.ctl_json("status", name)["workers"][0]


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def case_supervisor_serves_during_a_slow_stop(vigild, vigilctl, source):
    """`vigilctl stop slow` is under way (slow ignores SIGTERM, its shutdown is an hour):
    the sibling, killed, is restarted with a new os_pid; `vigilctl restart other` answers;
    status shows slow as stopping; then slow is killed and the stop's reply arrives."""
    d = Logged(vigild, vigilctl, CONFIG)
    slow = None
    try:
        d.start()
        wait_for(lambda: "slow-up" in d.ctl("logs", "slow").stdout, "slow to start")
        slow = row(d, "slow")["os_pid"]
        sibling = row(d, "sibling")["os_pid"]
        other = row(d, "other")["os_pid"]
        stop = subprocess.Popen([vigilctl, "--socket", d.socket, "--timeout", "60s", "stop",
                                 "slow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            wait_for(lambda: row(d, "slow")["state"] == "stopping", "slow to be stopping")
            check(row(d, "slow")["os_pid"] == slow, "a stopping child shows the pid it stops")

            kill(sibling)
            wait_for(lambda: row(d, "sibling")["state"] == "running"
                     and row(d, "sibling")["os_pid"] not in (None, sibling),
                     "the crashed sibling to be restarted while slow is stopping")

            d.ctl("restart", "other")
            check(row(d, "other")["os_pid"] != other, "other was not restarted")
            check(stop.poll() is None, "the stop of slow ended before slow died")
            check(row(d, "slow")["state"] == "stopping", "slow is no longer stopping")
        finally:
            kill(slow)  # vigild's child, started by this test's vigild
            out, err = stop.communicate(timeout=60)
        check(stop.returncode == 0, "vigilctl stop slow failed:\n%s\n%s" % (out, err))
        wait_for(lambda: row(d, "slow")["state"] == "stopped", "slow to be told stopped")
        check(row(d, "sibling")["state"] == "running", "the sibling is not running")
    finally:
        if slow is not None:
            kill(slow)
        d.cleanup()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    sys.exit(run_case(sys.argv, CASES, __doc__))
