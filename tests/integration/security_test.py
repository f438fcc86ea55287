#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Security tests of vigild: the real daemon and vigilctl against the promises of
docs/protocol.md ("Authorization", limits), docs/vigild.md and docs/ipc.md ("Segments").

Usage: security_test.py VIGILD VIGILCTL VIGIL_WORKER PLUGIN CASE
Exit status: 0 passed, 1 failed, 77 skipped (the environment cannot run the case).
"""

import json
import os
import resource
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import security_clients  # noqa: E402
import security_floods  # noqa: E402
import security_daemon_paths  # noqa: E402
import security_files  # noqa: E402
import security_paths  # noqa: E402
import security_workers  # noqa: E402
from security_base import (ECHO, NOBODY, OTHER_USER_PYTHON, SKIP, Skip, as_user,  # noqa: E402
                           ctl_as, mode_of, need_root, reachable, started)
from vigild_harness import Client, Failure, check, expect_error, wait_for  # noqa: E402

# -- cases ---------------------------------------------------------------------------------


def case_socket_modes(tools):
    """The socket and its directory get the modes of docs/vigild.md for each access list."""
    d = started(tools, ECHO)
    try:
        check(mode_of(d.socket) == 0o600, "socket mode %o, not 0600" % mode_of(d.socket))
        run_dir = os.path.dirname(d.socket)
        check(mode_of(run_dir) == 0o700, "directory mode %o, not 0700" % mode_of(run_dir))
        check(os.stat(d.socket).st_uid == os.geteuid(), "socket not owned by vigild's user")
    finally:
        d.cleanup()
    if os.geteuid() != 0:
        return  # a group the daemon is not in needs root to hand the socket to
    d = started(tools, '[daemon]\nallowed_groups = ["%d"]\n' % NOBODY + ECHO)
    try:
        st = os.stat(d.socket)
        check(stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == NOBODY,
              "one group: socket %o gid %d" % (stat.S_IMODE(st.st_mode), st.st_gid))
        dst = os.stat(os.path.dirname(d.socket))
        check(stat.S_IMODE(dst.st_mode) == 0o750 and dst.st_gid == NOBODY,
              "one group: directory %o gid %d" % (stat.S_IMODE(dst.st_mode), dst.st_gid))
    finally:
        d.cleanup()
    d = started(tools, '[daemon]\nallowed_users = ["12345"]\n' + ECHO)
    try:
        check(mode_of(d.socket) == 0o666, "users: socket mode %o" % mode_of(d.socket))
        check(mode_of(os.path.dirname(d.socket)) == 0o755, "users: directory mode")
    finally:
        d.cleanup()


def case_peer_uid(tools):
    """A client of another uid is refused unless the config lists its user or group."""
    need_root("to run a client as another user")
    # Nobody else listed: the file modes keep other users out before SO_PEERCRED does.
    d = started(tools, ECHO, dir_mode=0o755)
    try:
        r = ctl_as(d, NOBODY, NOBODY, "status")
        check(r.returncode == 3, "unlisted user, 0600 socket: exit %d, %s" % (r.returncode,
                                                                              r.stderr))
    finally:
        d.cleanup()
    # Another user listed: the socket is 0666 and SO_PEERCRED alone refuses uid 65534.
    d = started(tools, '[daemon]\nallowed_users = ["12345"]\n' + ECHO, dir_mode=0o755)
    try:
        r = ctl_as(d, NOBODY, NOBODY, "status")
        # vigilctl reports a refusal as "cannot connect" (exit 3), with the daemon's reason.
        check(r.returncode == 3 and "uid %d may not use this socket" % NOBODY in r.stderr,
              "unlisted user, 0666 socket: exit %d, %s" % (r.returncode, r.stderr))
        check("refused a control connection from uid %d" % NOBODY in d.read_log(),
              "the refusal is not logged")
        check(d.ctl_json("status")["workers"][0]["state"] == "running", "root not served")
    finally:
        d.cleanup()
    # Listed by uid, or by its only group: served.
    for access in ('allowed_users = ["%d"]' % NOBODY, 'allowed_groups = ["%d"]' % NOBODY):
        d = started(tools, "[daemon]\n%s\n" % access + ECHO, dir_mode=0o755)
        try:
            r = ctl_as(d, NOBODY, NOBODY, "--json", "status")
            check(r.returncode == 0, "%s: exit %d, %s" % (access, r.returncode, r.stderr))
            check(json.loads(r.stdout)["workers"][0]["path"] == "root/echo", r.stdout)
            # A user outside the group is still refused.
            r = ctl_as(d, NOBODY - 1, NOBODY - 1, "status")
            check(r.returncode == 3, "%s: uid %d got in" % (access, NOBODY - 1))
        finally:
            d.cleanup()


def case_oversized(tools):
    """A line of exactly 65,536 bytes is served; one byte more gets too_large, the connection
    closes, and the daemon serves everyone else."""
    d = started(tools, ECHO)
    try:
        head = b'{"id":1,"cmd":"hello","pad":"'
        tail = b'"}\n'
        pad = 65536 - len(head) - len(tail)
        c = Client(d.socket)
        c.send_raw(head + b"x" * pad + tail)
        reply = c.read_line()
        # The line is within the limit; the unknown top-level key is ignored.
        check(reply is not None and reply.get("ok") is True, "65536-byte line: %r" % reply)
        big = Client(d.socket)
        big.send_raw(head + b"x" * (pad + 1) + tail)
        expect_error(big.read_line(), "too_large")
        check(big.closed(), "connection open after too_large")
        # Without any newline: the limit holds too, and memory stays bounded.
        endless = Client(d.socket)
        try:
            for _ in range(64):
                endless.send_raw(b"x" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        expect_error(endless.read_line(), "too_large")
        check(c.call("hello")["ok"], "the first client lost its connection")
        check(Client(d.socket).call("status")["ok"], "daemon stopped serving")
        check(d.proc.poll() is None, "daemon died")
    finally:
        d.cleanup()


def case_nesting(tools):
    """Term text nested deeper than 64 is invalid_argument; so is JSON nested deeper than 64
    (bad_request); the limits are exact, and the connection stays usable."""
    d = started(tools, ECHO)
    try:
        c = Client(d.socket)
        ok = c.call("send", {"target": "self", "term": "[" * 64 + "]" * 64})
        check(ok["ok"], "64 levels of term refused: %r" % ok)
        for deep in ("[" * 65 + "]" * 65, "{" * 65 + "}" * 65, "%{a: " * 65 + "}" * 65,
                     "[" * 60000):
            r = c.call("send", {"target": "self", "term": deep})
            expect_error(r, "invalid_argument")
            r = c.call("kill", {"target": "echo", "reason": deep})
            expect_error(r, "invalid_argument")
        r = c.call("spawn", {"kind": "echo", "args": "[" * 65 + "]" * 65})
        expect_error(r, "invalid_argument")
        c.send_raw(b'{"id":9,"cmd":"hello","x":' + b"[" * 65 + b"]" * 65 + b"}\n")
        expect_error(c.read_line(), "bad_request")
        c.send_raw(b'{"id":9,"cmd":"hello","x":' + b"[" * 63 + b"]" * 63 + b"}\n")
        check(c.read_line()["ok"], "63 levels of JSON refused")
        check(c.call("hello")["ok"], "connection unusable after deep input")
        check(d.proc.poll() is None, "daemon died")
    finally:
        d.cleanup()


def case_reset_peer(tools):
    """Clients that close with replies unread (the daemon then reads ECONNRESET along with
    the hang-up) are dropped cleanly: this once freed the connection and then read it."""
    d = started(tools, ECHO)
    try:
        other = Client(d.socket)  # the dropped connection is looked up among others
        check(other.call("hello")["ok"], "hello")
        for _ in range(50):
            c = Client(d.socket)
            c.send_raw(b'{"id":1,"cmd":"hello"}\n' * 5)
            # Every reply delivered (so the daemon is not writing), none read.
            wait_for(lambda: c.sock.recv(65536, socket.MSG_PEEK).count(b"\n") == 5,
                     "the replies")
            c.close()
        check(d.proc.poll() is None, "daemon died:\n" + d.read_log()[-3000:])
        check(other.call("hello")["ok"], "the other client lost service")
    finally:
        d.cleanup()


FLOOD_CONFIG = ECHO + """
[[supervisor.children]]
id = "isolated"
kind = "echo"
mode = "process"
"""


ATOM_FLOOD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "security",
                          "atom_flood.py")
USER_ATOMS, TRUSTED_ATOMS = 16384, 131072  # daemon_state's budgets (docs/security.md)


def flood_atoms(d, prefix, uid=None):
    """Runs tests/security/atom_flood.py (as `uid`, when given) against `d`."""
    cmd = ([OTHER_USER_PYTHON, reachable(ATOM_FLOOD)] if uid else [sys.executable, ATOM_FLOOD]) \
        + [d.socket, prefix]
    if uid:
        cmd = as_user(uid) + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, "atom_flood.py failed: " + r.stderr[-2000:])
    return json.loads(r.stdout)


def case_atom_flood(tools):
    """Finding 4 of issue #12: one allowed user filled the atom table for everyone. Each user
    of the socket may create a bounded number of new atoms (across its sessions); past it, new
    atoms are refused with a clear error while known atoms still work, and other users, root,
    OS workers and a reload that brings a new config key keep working."""
    need_root("to run a client as another user")
    config = '[daemon]\nallowed_users = ["%d", "%d"]\n' % (NOBODY, NOBODY - 1) + FLOOD_CONFIG
    d = started(tools, config, dir_mode=0o755)
    try:
        r = flood_atoms(d, "nobodyflood", NOBODY)
        check(r["error"] is not None, "nobody's atoms were never refused: %r" % r)
        check(0 < r["sent"] <= USER_ATOMS, "nobody created %d atoms: %r" % (r["sent"], r))
        check(r["error"]["code"] == "invalid_argument"
              and "may create no more atoms" in r["error"]["message"], r["error"]["message"])
        # The budget is the user's, not the connection's; known atoms still work for it.
        again = ctl_as(d, NOBODY, NOBODY, "send", "self", "{:nobody_after_flood}")
        check(again.returncode != 0 and "may create no more atoms" in again.stderr,
              "a new session got a fresh budget: %d %s" % (again.returncode, again.stderr))
        known = ctl_as(d, NOBODY, NOBODY, "send", "echo", "{self(), :ping}", "--await", "5s")
        check(known.returncode == 0 and "{:ok, :pong}" in known.stdout,
              "known atoms refused: " + known.stderr)
        # Another user, and root, still create atoms of their own.
        other = ctl_as(d, NOBODY - 1, NOBODY - 1, "send", "self", "{:fresh_from_another_user}")
        check(other.returncode == 0, "another user lost service: " + other.stderr)
        # Root floods too: its larger budget ends as well, and the daemon keeps working.
        r = flood_atoms(d, "rootflood")
        check(r["error"] is not None and r["sent"] <= TRUSTED_ATOMS,
              "root's atoms were never refused: %r" % r)
        old = d.ctl_json("status", "isolated")["workers"][0]["os_pid"]
        d.ctl("kill", "isolated")
        wait_for(lambda: d.proc.poll() is not None or
                 d.ctl_json("status", "isolated")["workers"][0]["os_pid"] not in (None, old),
                 "the OS worker to restart")
        check(d.proc.poll() is None, "vigild died:\n" + d.read_log()[-3000:])
        out = d.ctl("send", "isolated", "{self(), :ping}", "--await", "5s").stdout
        check("{:ok, :pong}" in out, "the restarted worker does not answer: " + out)
        # A reload whose config brings a name no one has used yet still finds room for it.
        d.write_config(config + FRESH_KEY_CHILD)
        out = d.ctl("reload").stdout
        check("start" in out and "fresh" in out, "the reload did not start the child: " + out)
        check(d.ctl_json("status", "fresh")["workers"][0]["state"] == "running",
              "the new child does not run")
        out = d.ctl("send", ":a_name_first_seen_after_the_flood", "{self(), :ping}", "--await",
                    "5s").stdout
        check("{:ok, :pong}" in out, "the new name does not answer: " + out)
    finally:
        d.cleanup()


FRESH_KEY_CHILD = """
[[supervisor.children]]
id = "fresh"
kind = "echo"
args = { name = "a_name_first_seen_after_the_flood" }
"""


def case_shell_spawns(tools):
    """Finding 4 of issue #12: processes a session spawns belong to it. They end when the
    session ends, and one session may run a bounded number of them at once."""
    d = started(tools, ECHO)
    try:
        c = Client(d.socket, timeout=60)
        pids = []
        for _ in range(3):
            r = c.call("spawn", {"kind": "echo"})
            check(r["ok"], "spawn failed: %r" % r)
            pids.append(r["result"]["pid"])
        other = Client(d.socket, timeout=60)

        def alive(p):
            return other.call("alive", {"target": p})["result"]["alive"]

        for p in pids:
            check(alive(p), "%s is not alive" % p)
        c.close()  # the session ends, and what it spawned with it
        for p in pids:
            wait_for(lambda: not alive(p), "%s to end with its session" % p)
        # A bound per session: the 1,001st live process is refused, with a reason.
        c = Client(d.socket, timeout=60)
        for i in range(1000):
            r = c.call("spawn", {"kind": "echo"})
            check(r["ok"], "spawn %d failed: %r" % (i, r))
        r = c.call("spawn", {"kind": "echo"})
        expect_error(r, "failed")
        check("already runs 1000 spawned processes" in r["error"]["message"], r["error"]["message"])
        check(Client(d.socket).call("spawn", {"kind": "echo"})["ok"], "another session refused")
        c.close()
        # `vigilctl spawn` detaches: the process outlives the command and `tree` lists it.
        detached = d.ctl_json("spawn", "echo")["pid"]
        check(alive(detached), "a detached process ended with its session")
        check("(spawned)" in d.ctl("tree").stdout and detached in d.ctl("tree").stdout,
              "tree does not list the detached process:\n" + d.ctl("tree").stdout)
        check(d.proc.poll() is None, "vigild died:\n" + d.read_log()[-3000:])
    finally:
        d.cleanup()


MAX_CONNECTIONS = 1024


def connect(path):
    """A client, retrying while the listen backlog is full (a Unix socket's connect with a
    timeout fails with EAGAIN then instead of waiting)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return Client(path, timeout=20)
        except BlockingIOError:
            check(time.monotonic() < deadline, "the listen backlog stays full")
            time.sleep(0.01)


def hello_or_refusal(c):
    """The reply to a hello, or the error line of a connection refused before it was read."""
    try:
        c.send_raw(b'{"id":1,"cmd":"hello"}\n')
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused already: the error line waits to be read
    return c.read_line()


def served(path):
    """True when a new client gets an answer to hello (not a refusal)."""
    probe = connect(path)
    reply = hello_or_refusal(probe)
    probe.close()
    return reply is not None and reply.get("ok") is True


def case_max_clients(tools):
    """At most 1,024 connections are served: the next one gets `failed` and is closed; once
    one leaves, a new client is served again."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = MAX_CONNECTIONS + 256
    if hard != resource.RLIM_INFINITY and hard < want:
        raise Skip("RLIMIT_NOFILE hard limit %d is below %d" % (hard, want))
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # vigild inherits it
    d = started(tools, ECHO)
    clients = []
    try:
        for _ in range(MAX_CONNECTIONS):
            clients.append(connect(d.socket))
        # Accepts are in connect order: the last one answering means all were admitted.
        check(clients[-1].call("hello")["ok"], "connection %d not served" % MAX_CONNECTIONS)
        extra = connect(d.socket)
        reply = extra.read_line()
        expect_error(reply, "failed")
        check("too many connections" in reply["error"]["message"], "message: %r" % reply)
        check(extra.closed(), "the refused connection stays open")
        check(clients[0].call("hello")["ok"], "an admitted client lost service")
        clients.pop(0).close()

        wait_for(lambda: served(d.socket), "a free slot to be served again")
        check(d.proc.poll() is None, "daemon died")
    finally:
        for c in clients:
            c.close()
        d.cleanup()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def case_fd_exhaustion(tools):
    """Out of file descriptors, vigild refuses new clients with `failed` instead of spinning
    on its listener (which once wrote 400,000 log lines a second); it logs the shortage once,
    keeps serving the clients it has, and accepts again once descriptors are freed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = 64
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        d = started(tools, ECHO)  # inherits the low limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    clients = []
    try:
        refused = None
        for _ in range(limit):
            c = connect(d.socket)
            reply = hello_or_refusal(c) if refused is None else None
            if reply is not None and reply.get("ok"):
                clients.append(c)
                continue
            refused = refused or reply
            c.close()
        check(refused is not None, "%d clients served under a limit of %d" % (len(clients), limit))
        expect_error(refused, "failed")
        check("out of file descriptors" in refused["error"]["message"], "%r" % refused)
        # More arrivals while out of descriptors: each is answered, none makes the loop spin.
        for _ in range(20):
            c = connect(d.socket)
            expect_error(c.read_line(), "failed")
            c.close()
        before = cpu_seconds(d.proc.pid)
        extra = connect(d.socket)
        time.sleep(1)
        used = cpu_seconds(d.proc.pid) - before
        check(used < 0.5, "vigild used %.2f s of CPU in 1 s while out of descriptors" % used)
        extra.close()
        check(clients[0].call("hello")["ok"], "an admitted client lost service")
        check(d.read_log().count("unable to accept") == 1, "the shortage is not logged once:\n"
              + d.read_log()[-2000:])
        for c in clients[: len(clients) // 2]:
            c.close()

        wait_for(lambda: served(d.socket), "vigild to accept again once descriptors are free")
        check("file descriptors available again" in d.read_log(), "recovery not logged")
    finally:
        for c in clients:
            c.close()
        d.cleanup()


CASES = {name[5:]: fn for scope in (globals(), vars(security_files), vars(security_paths),
                                    vars(security_clients), vars(security_workers),
                                    vars(security_floods), vars(security_daemon_paths))
         for name, fn in scope.items() if name.startswith("case_")}


def main(argv):
    if len(argv) != 6 or argv[5] not in CASES:
        print(__doc__ + "cases: " + ", ".join(CASES), file=sys.stderr)
        return 2
    tools = dict(zip(("vigild", "vigilctl", "worker", "plugin"), argv[1:5]))
    os.environ["VIGIL_WORKER_PROGRAM"] = tools["worker"]
    case = argv[5]
    try:
        CASES[case](tools)
    except Skip as e:
        print("SKIP: %s: %s" % (case, e))
        return SKIP
    except Failure as e:
        print("FAIL: %s: %s" % (case, e), file=sys.stderr)
        return 1
    print("ok: " + case)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
