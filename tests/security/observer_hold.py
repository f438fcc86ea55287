#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Repro of a refused user holding the observer: opens COUNT connections to the observer's
Unix socket and sends nothing on them. Run it as a user the control socket does not allow.
While the observer counted such peers among its 256 sessions, 256 of these left root's
scrape of /metrics closed unanswered until the request timeout ended them.

Usage: observer_hold.py SOCKET COUNT
Prints one JSON line: {"connections": N}, then holds them until its stdin closes.
"""

import json
import socket
import sys


def main(path, count):
    held = []
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        held.append(s)
    print(json.dumps({"connections": len(held)}), flush=True)
    sys.stdin.read()
    for s in held:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
