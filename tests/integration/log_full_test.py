#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration test of a full log filesystem (docs/os-workers.md, "Logs"): the real vigild
with daemon.log_dir on a 64 KiB tmpfs that the test fills and frees. vigild warns once when
the child's lines stop reaching its file, counts them in `info` and `status`, and says once
when the file is written again. Root only (mount); exits 77 otherwise.

Usage: log_full_test.py VIGILD VIGILCTL VIGIL_WORKER
"""

import errno
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Daemon, check, run_script, wait_for  # noqa: E402

CONFIG = """
[daemon]
log_dir = "{logs}"

[[supervisor.children]]
id = "web"
command = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo line $i; sleep 0.05; done"]
"""


def fill(path):
    with open(path, "wb", buffering=0) as f:
        block = b"x" * 4096
        try:
            for _ in range(1000):
                f.write(block)
        except OSError as e:
            check(e.errno == errno.ENOSPC, "filling the tmpfs: %r" % e)
            return
    check(False, "the 64 KiB tmpfs did not fill")


def dropped(d):
    return d.ctl_json("info", "web")["info"]["log_lines_dropped"]


def run(vigild, vigilctl):
    if os.geteuid() != 0:
        print("skipped: mounting a tmpfs needs root")
        return 77
    d = Daemon(vigild, vigilctl, "")
    logs = os.path.join(d.dir, "logs")
    os.mkdir(logs)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", logs],
                       capture_output=True, text=True)
    if r.returncode != 0:
        d.cleanup()
        print("skipped: mount -t tmpfs failed: " + r.stderr.strip())
        return 77
    try:
        d.write_config(CONFIG.format(logs=logs))
        d.start()
        log_file = os.path.join(logs, "root%2Fweb.log")
        wait_for(lambda: os.path.exists(log_file) and "stdout line" in open(log_file).read(),
                 "the child's first line in its file")
        check(dropped(d) == 0, "nothing dropped yet")

        filler = os.path.join(logs, "filler")
        fill(filler)
        warning = "root/web: log file %s: No space left on device; dropping its lines" % log_file
        wait_for(lambda: warning in d.read_log(), "the warning in vigild's log")
        first = wait_for(lambda: dropped(d), "info to count dropped lines")
        # More lines are lost, still with the one warning.
        wait_for(lambda: dropped(d) >= first + 3, "more dropped lines")
        check(d.read_log().count("dropping its lines") == 1,
              "warned more than once:\n" + d.read_log())
        row = [w for w in d.ctl_json("status")["workers"] if w["path"] == "root/web"][0]
        check(row["log_lines_dropped"] >= first + 3, "status row %r" % row)
        text = d.ctl("info", "web").stdout
        check("log_lines_dropped" in text, "vigilctl info lacks log_lines_dropped:\n" + text)
        tail = d.ctl_json("logs", "web")["lines"]
        check(tail and tail[-1]["line"].startswith("line "), "the memory tail goes on: %r" % tail)

        os.unlink(filler)
        wait_for(lambda: "is written again" in d.read_log(), "the resumption in vigild's log")
        log = d.read_log()
        check(log.count("is written again") == 1 and "lines were dropped" in log,
              "resumption message:\n" + log)
        wait_for(lambda: "stdout line" in open(log_file).read().split("\n")[-2],
                 "new lines in the file")
        after = dropped(d)
        check(after >= first + 3, "the count is kept: %d" % after)
        check(log.count("dropping its lines") == 1, "a second warning:\n" + log)
        d.stop()
    finally:
        d.stop()
        subprocess.run(["umount", "-l", logs], capture_output=True)
        d.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(run_script("log_full", sys.argv, run, __doc__))
