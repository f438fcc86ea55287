#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration test of a journald that is behind (docs/systemd.md, "When journald is behind"):
the real vigild as systemd starts it (INVOCATION_ID set, no --foreground), its stderr a stream
socket nobody reads and journald's datagram socket one nobody reads either, bind-mounted at
/run/systemd/journal/socket in a mount namespace of vigild's own. A chatty worker fills both;
another worker's output must still reach `vigilctl logs`, which it does only while the reactor
that serves every OS child is not stuck writing to journald. Root only (unshare, mount);
exits 77 otherwise.

Usage: journal_full_test.py VIGILD VIGILCTL
"""

import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import READY_LINE, Daemon, check, wait_for  # noqa: E402

# chatty writes as fast as a shell can; beacon a numbered line every 0.2 s (its pace, not a
# wait of the test's: the test waits for its lines, however late they come).
CONFIG = """
[[supervisor.children]]
id = "chatty"
command = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo chatty line $i; done"]

[[supervisor.children]]
id = "beacon"
command = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo beacon $i; sleep 0.2; done"]
"""

# In vigild's own mount namespace: a /run of its own holding journald's socket path, bound to
# the test's socket; then vigild itself (exec: the pid the test holds is vigild's).
IN_NAMESPACE = ("mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p /run/systemd/journal && "
                ": > /run/systemd/journal/socket && "
                "mount --bind \"$0\" /run/systemd/journal/socket && exec \"$@\"")


def journal_full(probe, path):
    """Whether journald's socket has no room for another datagram."""
    try:
        probe.sendto(b"MESSAGE=probe\n", socket.MSG_DONTWAIT, path)
        return False
    except BlockingIOError:
        return True


def last_beacon(d):
    lines = d.ctl_json("logs", "beacon")["lines"]
    numbers = [int(l["line"].split()[1]) for l in lines if l["line"].startswith("beacon ")]
    return max(numbers) if numbers else 0


def run(vigild, vigilctl):
    if os.geteuid() != 0:
        print("skipped: a mount namespace needs root")
        return 77
    if shutil.which("unshare") is None:
        print("skipped: no unshare")
        return 77
    d = Daemon(vigild, vigilctl, CONFIG)
    if os.path.realpath(d.dir).startswith("/run/"):
        d.cleanup()
        print("skipped: the temporary directory is under /run, which vigild's namespace hides")
        return 77
    journal_path = os.path.join(d.dir, "journal.sock")
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(journal_path)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    # vigild's stderr under systemd: a stream to journald, here never read.
    stderr_ours, stderr_journald = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = dict(os.environ)
    for name in ("JOURNAL_STREAM", "NOTIFY_SOCKET"):
        env.pop(name, None)
    env["INVOCATION_ID"] = "0123456789abcdef0123456789abcdef"
    try:
        d.logfile = open(d.log, "w")
        d.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", IN_NAMESPACE,
             journal_path, vigild, "--config", d.config, "--socket", d.socket,
             "--log-file", d.log],
            stdin=subprocess.DEVNULL, stdout=stderr_ours, stderr=stderr_ours, env=env)
        stderr_ours.close()
        wait_for(lambda: READY_LINE.search(d.read_log()) or d.proc.poll() is not None,
                 "vigild to start", timeout=30)
        check(d.proc.poll() is None, "vigild exited at start:\n" + d.read_log())

        wait_for(lambda: journal_full(probe, journal_path), "the chatty worker to fill the journal",
                 timeout=30)
        # Both journald's sockets are full now and stay so: nobody reads them. The beacon's
        # lines still come, several of them, so the reactor is not stuck on journald.
        seen = last_beacon(d)
        wait_for(lambda: last_beacon(d) >= seen + 5, "the beacon's lines while journald is full",
                 timeout=30)
        check(journal_full(probe, journal_path), "the journal was read: the test proves nothing")
        # The drops are told in vigild's log, rate-limited: a few lines, not one per line.
        wait_for(lambda: "the journal is full" in d.read_log(), "the report of the drops")
        reports = d.read_log().count("the journal is full")
        check(reports < 60, "%d reports of drops: not rate-limited" % reports)
        check("chatty line" not in d.read_log(),
              "the chatty worker's lines went to vigild's own log")
        d.stop()
        check(d.proc.returncode == 0, "vigild exited %s:\n%s" % (d.proc.returncode, d.read_log()))
        return 0
    finally:
        journal.close()
        probe.close()
        stderr_journald.close()
        d.cleanup()


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2]))
