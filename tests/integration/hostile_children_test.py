#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A supervised program that attacks vigild through what every program has: its output, its
processes, its exits (docs/security.md, "Hostile programs"). Each case runs the real vigild
with one hostile child beside a quiet one and asserts what the others depend on: vigild's
memory stays bounded, `vigilctl status` answers, the quiet child keeps its os_pid. Waits
are on events and states; no case asserts a wall-clock figure.

Usage: hostile_children_test.py VIGILD VIGILCTL SOURCE_DIR CASE
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_floods import resident_bytes, wait_until_idle  # noqa: E402
from vigild_harness import OTHER_USER_PYTHON, Daemon, check, run_case, wait_for  # noqa: E402

QUIET = """
[[supervisor.children]]
id = "quiet"
command = ["sleep", "100000"]
"""

# What a flood of long lines may leave vigild holding: the two memory rings of the child's
# recent lines, 1 MiB each, and the allocator's slack. Unbounded by bytes, the rings held
# 1,000 lines each: about 100 MB for the 16 MiB of control bytes below (measured +145 MB
# under AddressSanitizer, quarantine off), and ten such children a gigabyte, outside any
# cgroup limit of theirs.
OUTPUT_BOUND = 24 << 20

# Once the test opens the FIFO it is given: 1,000 lines of 16 KiB (vigild cuts lines there)
# of a control byte, which JSON writes as six bytes (\u0001), then a marker line; then it
# stays, so its lines stay too (its sleep only keeps it alive: nothing waits on it).
LONG_LINES = r"""
import os, sys, time
open(sys.argv[1]).close()
line = b"\x01" * 16383 + b"\n"
for _ in range(1000):
    os.write(1, line)
os.write(1, b"flood-done\n")
time.sleep(100000)
"""


class Logged(Daemon):
    """A Daemon whose log tail is printed when a check fails."""

    def cleanup(self):
        if sys.exc_info()[0] is not None and os.path.exists(self.log):
            print("vigild's log:\n" + self.read_log()[-2000:], file=sys.stderr)
        super().cleanup()


def process_state(pid):
    """The one-letter state of /proc/PID/stat: R, S, T (stopped), Z..."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def os_pid(d, name):
    return d.ctl_json("status", name)["workers"][0]["os_pid"]


def case_output_memory_bounded(vigild, vigilctl, source):
    """A child that writes 16 MiB of long lines of control bytes makes vigild hold no more
    than two bounded rings of them: its memory stays within OUTPUT_BOUND of what it was, the
    newest line is still shown by `vigilctl logs`, and the quiet child is untouched."""
    d = Logged(vigild, vigilctl, "")
    script = os.path.join(d.dir, "long_lines.py")
    with open(script, "w") as f:
        f.write(LONG_LINES)
    go = os.path.join(d.dir, "go")
    os.mkfifo(go)
    d.write_config(QUIET + """
[[supervisor.children]]
id = "flood"
command = ["%s", "%s", "%s"]
""" % (OTHER_USER_PYTHON, script, go))
    try:
        # Memory freed into AddressSanitizer's quarantine is not memory vigild holds.
        asan = os.environ.get("ASAN_OPTIONS", "")
        d.start(extra_env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=0"})
        quiet = os_pid(d, "quiet")
        wait_until_idle(d.proc.pid, "vigild to settle after its start")
        before = resident_bytes(d.proc.pid)
        open(go, "w").close()
        wait_for(lambda: "flood-done" in d.ctl("logs", "flood", "-n", "1").stdout,
                 "the flood's last line", timeout=300)
        wait_until_idle(d.proc.pid, "vigild to take the whole flood")
        grown = resident_bytes(d.proc.pid) - before
        print("vigild grew by %.1f MB" % (grown / 1048576.0))
        check(grown < OUTPUT_BOUND, "vigild grew by %d MB holding one child's output lines"
              % (grown >> 20))
        check(os_pid(d, "quiet") == quiet, "the quiet child was restarted")
        check(d.proc.poll() is None, "vigild exited")
    finally:
        d.cleanup()


def case_stopped_child_stops_cleanly(vigild, vigilctl, source):
    """A child stopped by SIGSTOP (a debugger, a terminal's SIGTSTP, or itself) still stops
    cleanly: `vigilctl stop` continues it after its stop signal and its handler runs. It
    once waited out its whole `shutdown` (here longer than vigilctl waits) and was
    SIGKILLed."""
    d = Logged(vigild, vigilctl, QUIET + """
[[supervisor.children]]
id = "paused"
command = ["sh", "-c", "trap 'echo stopping-cleanly; exit 0' TERM; echo child-up; while :; do sleep 0.1; done"]
shutdown = "1h"
""")
    try:
        d.start()
        wait_for(lambda: "child-up" in d.ctl("logs", "paused").stdout, "the child to start")
        quiet = os_pid(d, "quiet")
        paused = os_pid(d, "paused")
        os.kill(paused, signal.SIGSTOP)
        wait_for(lambda: process_state(paused) == "T", "the child to be stopped")
        d.ctl("stop", "paused")
        check("stopping-cleanly" in d.ctl("logs", "paused").stdout,
              "the child's SIGTERM handler did not run")
        check(os_pid(d, "quiet") == quiet, "the quiet child was restarted")
    finally:
        d.cleanup()


def descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def case_escaped_descendants_hold_bounded_descriptors(vigild, vigilctl, source):
    """Without cgroups, a child that leaves a setsid daemon holding its stdout and stderr
    each time it dies makes vigild keep at most a bounded number of dead incarnations' pipes
    (reactor::max_lingering): 300 restarts cost vigild at most 64 of them. It once kept 3
    descriptors for every restart for as long as the daemons lived, and a child restarting
    every few seconds would have used up vigild's 65,536 in a day, after which vigild could
    start nothing and accept no client."""
    d = Logged(vigild, vigilctl, "")
    pids = os.path.join(d.dir, "escaped.pids")
    d.write_config("""
[daemon]
cgroup = "off"

[supervisor]
intensity = 100000
period = "1s"
crash_backoff = false
""" + QUIET + """
[[supervisor.children]]
id = "leaver"
command = ["sh", "-c", "setsid sleep 100000 & echo $! >> %s; exit 1"]
""" % pids)
    try:
        d.start()
        quiet = os_pid(d, "quiet")
        restarts = lambda: d.ctl_json("status", "leaver")["workers"][0]["restarts"]
        wait_for(lambda: restarts() >= 5, "the first restarts", timeout=60)
        before = descriptors(d.proc.pid)
        first = restarts()
        wait_for(lambda: restarts() >= first + 300, "300 more restarts", timeout=240)
        grown = descriptors(d.proc.pid) - before
        print("vigild's descriptors grew by %d over 300 restarts" % grown)
        check(grown <= 3 * 64 + 16,
              "vigild holds %d more descriptors after 300 restarts" % grown)
        check(os_pid(d, "quiet") == quiet, "the quiet child was restarted")
    finally:
        # The escaped daemons are this test's own: each pid was written by its parent.
        if os.path.exists(pids):
            with open(pids) as f:
                for line in f:
                    try:
                        os.kill(int(line), signal.SIGKILL)
                    except (ValueError, ProcessLookupError):
                        pass
        d.cleanup()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    sys.exit(run_case(sys.argv, CASES, __doc__))
