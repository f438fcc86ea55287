#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A fake vigild, for security_fake_server (docs/security.md, "Who may connect"): listens on
the socket path given, answers every request with a status of made-up rows, and prints
"ready" once it listens. A local user who put such a server where root's vigilctl looks
would see root's requests and choose its answers; vigilctl must refuse it.

Usage: fake_server.py SOCKET
"""

import json
import os
import socket
import sys

FAKE_ROW = {"path": "root/FAKE", "id": "FAKE", "state": "running", "pid": "#PID<0.99.0>",
            "restarts": 0}


def main(path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o666)
    server.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn, conn.makefile("rwb") as f:
            for line in f:
                try:
                    request = json.loads(line)
                except ValueError:
                    break
                reply = {"v": 1, "id": request.get("id"), "ok": True,
                         "result": {"workers": [FAKE_ROW], "supervisors": []}}
                f.write(json.dumps(reply).encode() + b"\n")
                f.flush()


if __name__ == "__main__":
    main(sys.argv[1])
