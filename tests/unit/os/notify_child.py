#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A command child that speaks sd_notify over $NOTIFY_SOCKET, one behaviour per mode, for
# tests/unit/os/readiness_test.cpp. It then waits to be stopped.
import os
import signal
import socket
import sys

addr = os.environ["NOTIFY_SOCKET"]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)


def send(data):
    sock.sendto(data, addr)


mode = sys.argv[1]
if mode == "junk":
    # Oversized, no '=', binary: each is dropped; the last datagram still counts.
    send(b"x" * 5000)
    send(b"no equals sign")
    send(b"\x00\xff\x01READY=1")
    send(b"STATUS=serving after junk\nREADY=1\n")
elif mode == "on-usr1":
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    print("waiting for SIGUSR1", flush=True)
    signal.sigwait([signal.SIGUSR1])
    send(b"STATUS=told by SIGUSR1\nREADY=1")
elif mode == "watchdog-once":
    print("WATCHDOG_USEC=" + os.environ.get("WATCHDOG_USEC", ""), flush=True)
    send(b"READY=1\nWATCHDOG=1")
elif mode == "mainpid-foreign":
    # A pid that is not the child's (its parent, vigil's test) is not taken as MAINPID.
    send(("MAINPID=%d\nSTATUS=pid given\nREADY=1" % os.getppid()).encode())
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
signal.sigwait([signal.SIGTERM])
