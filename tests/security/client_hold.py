#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Repro of issue #12, finding 4 (idle connections lock the administrator out): opens COUNT
connections to vigild's control socket, says hello on each, and holds them open until its
stdin closes. Run it as an allowed non-root user; before the per-user cap, 1,100 of these
left root unable to run `vigilctl status`.

Usage: client_hold.py SOCKET COUNT
Prints one JSON line: {"served": N, "refused": [error messages]}, then waits.
"""

import json
import socket
import sys


def main(path, count):
    held, refused = [], []
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(path)
        try:
            s.sendall(b'{"id":1,"cmd":"hello"}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused already: its error line waits to be read
        data = b""
        while b"\n" not in data:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        reply = json.loads(data.split(b"\n", 1)[0]) if data else {}
        if reply.get("ok"):
            held.append(s)
        else:
            refused.append(reply.get("error", {}).get("message", repr(data)))
            s.close()
    print(json.dumps({"served": len(held), "refused": refused}), flush=True)
    sys.stdin.read()
    for s in held:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
