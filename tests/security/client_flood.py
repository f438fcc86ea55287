#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Repro of issue #12, finding 4 (refused clients flood the log): connects COUNT times to
vigild's control socket as a user it refuses, reading each refusal. Before the refusal
warnings were rate-limited, 3,000 of these wrote 3,001 lines to vigild's log in 0.13 s.

Usage: client_flood.py SOCKET COUNT
Prints the number of refusals it read.
"""

import socket
import sys


def main(path, count):
    refused = 0
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(path)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        refused += b'"ok":false' in data
        s.close()
    print(refused)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
