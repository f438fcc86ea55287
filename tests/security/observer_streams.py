#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Repro of one allowed user holding the observer: opens COUNT connections to the observer's
Unix socket and follows the event stream (GET /api/events) on each, which never times out.
Run it as a user the control socket allows. While the observer had no per-user bound, 256
of these closed every later connection unanswered, root's scrapes included.

Usage: observer_streams.py SOCKET COUNT
Prints one JSON line: {"streams": N, "closed": M}, then holds the streams until its stdin
closes.
"""

import json
import socket
import sys

REQUEST = b"GET /api/events HTTP/1.1\r\nHost: vigild\r\n\r\n"


def main(path, count):
    held, closed = [], 0
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(path)
        data = b""
        try:
            s.sendall(REQUEST)
            while b"vigild events" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        if b"vigild events" in data:
            held.append(s)
        else:
            closed += 1
            s.close()
    print(json.dumps({"streams": len(held), "closed": closed}), flush=True)
    sys.stdin.read()
    for s in held:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
