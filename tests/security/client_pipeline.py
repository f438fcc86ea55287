#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Repro of a pipelining flood: opens COUNT connections to vigild's control socket and on each
sends empty request lines (one byte each, every one a `bad_request`) for as long as the socket
takes them, reading no reply. Run it as an allowed non-root user. Before vigild parsed at most
max_pending lines per connection ahead of its session, each connection's 256 KiB became
262,144 queued requests: about 90 MB held per connection, and vigild's loop parsing them
while root's `vigilctl status` waited.

Usage: client_pipeline.py SOCKET COUNT
Prints one JSON line: {"connections": N, "bytes": sent}, then holds the connections until
its stdin closes.
"""

import json
import socket
import sys


def main(path, count):
    held, sent = [], 0
    block = b"\n" * 65536
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.setblocking(False)
        try:
            while True:
                sent += s.send(block)
        except BlockingIOError:
            pass  # the socket holds what vigild has not taken
        held.append(s)
    print(json.dumps({"connections": len(held), "bytes": sent}), flush=True)
    sys.stdin.read()
    for s in held:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
