#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The children of os_readiness_test.py's db -> app -> proxy chain.

  chain_child.py db PORT          load for a moment, then listen on PORT (ready: tcp check)
  chain_child.py app DB_PORT PORT exit 3 unless db answers at once; listen on PORT, READY=1
  chain_child.py proxy APP_PORT   exit 3 unless app answers at once; then serve

A child that starts before the one it depends on is ready exits 3 at once: the test sees
it as a process_exited with {:exit_status, 3}.
"""

import os
import socket
import sys
import time


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    return s


def reachable(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def notify(text):
    path = os.environ.get("NOTIFY_SOCKET", "")
    if path:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(text.encode(), path)
        s.close()


def serve(s):
    while True:
        conn, _ = s.accept()
        conn.close()


def main():
    role = sys.argv[1]
    if role == "db":
        # A database replaying its log: not reachable for a while after its start, so that a
        # child started before it is ready would find nothing listening. This delay is the
        # workload, not a wait of the test's: the test waits on events, and passes whatever
        # the delay; the delay only gives an early start of app something to fail on.
        time.sleep(0.5)
        serve(listen(int(sys.argv[2])))
    if role == "app":
        if not reachable(int(sys.argv[2])):
            print("app: db is not ready", flush=True)
            return 3
        s = listen(int(sys.argv[3]))
        notify("READY=1\nSTATUS=connected to db")
        serve(s)
    if role == "proxy":
        if not reachable(int(sys.argv[2])):
            print("proxy: app is not ready", flush=True)
            return 3
        while True:
            time.sleep(3600)  # a running proxy: it lives until the test stops it
    return 2


if __name__ == "__main__":
    sys.exit(main())
