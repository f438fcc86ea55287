#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What vigild holds for COUNT connections of one allowed user that pipeline one-byte
requests (each answered by an 86-byte bad_request error) and read nothing: its RSS growth
once it is idle, every session waiting on its reply backlog (docs/protocol.md, "Unread
replies"). Run as root (the flood runs as nobody), on a release build for figures:

  bench/pipelined_flood_rss.py build/release/supervisord/vigild build/release/ctl/vigilctl 16

Prints one JSON line: connections, bytes sent, growth in MiB, MiB per connection."""

import json
import os
import select
import subprocess
import sys

TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
sys.path.insert(0, os.path.join(TESTS, "integration"))
from security_base import ECHO, NOBODY, OTHER_USER_PYTHON, as_user, daemon, reachable  # noqa: E402
from security_floods import REPROS, resident_bytes, wait_until_idle  # noqa: E402


def main(vigild, vigilctl, count):
    config = '[daemon]\nallowed_users = ["%d"]\n' % NOBODY + ECHO
    d = daemon({"vigild": vigild, "vigilctl": vigilctl}, config, dir_mode=0o755)
    flood = None
    try:
        # Memory in AddressSanitizer's quarantine is not memory vigild holds.
        d.start(extra_env={"ASAN_OPTIONS": "quarantine_size_mb=0"})
        before = resident_bytes(d.proc.pid)
        flood = subprocess.Popen(
            as_user(NOBODY) + [OTHER_USER_PYTHON,
                               reachable(os.path.join(REPROS, "client_pipeline.py")),
                               d.socket, str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([flood.stdout], [], [], 120)
        got = json.loads(flood.stdout.readline() or "{}") if ready else {}
        wait_until_idle(d.proc.pid, "vigild to go idle")
        grown = resident_bytes(d.proc.pid) - before
        print(json.dumps({"connections": got.get("connections"), "bytes_sent": got.get("bytes"),
                          "grown_mib": round(grown / 2**20, 1),
                          "per_connection_mib": round(grown / count / 2**20, 2)}))
    finally:
        if flood:
            flood.stdin.close()
            flood.wait(30)
        d.cleanup()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
