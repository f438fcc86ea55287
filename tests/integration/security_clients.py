# SPDX-License-Identifier: Apache-2.0
"""Security cases of the control socket's clients (issue #12, findings 4 to 7): outside input
is bounded (connections per user, a first-request deadline, rate-limited refusal warnings,
replies of any size), duplicate JSON keys are refused, and `vigilctl logs` does not play a
worker's escape sequences to a terminal. The repro programs are in tests/security/client_*.

Each case_* function takes the tools of security_test.py."""

import json
import os
import pty
import re
import resource
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_base import (ECHO, NOBODY, OTHER_USER_PYTHON, Skip, as_user,  # noqa: E402
                           need_root, reachable, started)
from vigild_harness import Client, Failure, check, expect_error, wait_for  # noqa: E402

REPROS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "security")


def repro(name):
    return os.path.join(REPROS, name)


def hold_as_nobody(d, count):
    """tests/security/client_hold.py as nobody: (process, its summary). The connections stay
    open until the process's stdin is closed."""
    p = subprocess.Popen(as_user(NOBODY) + [OTHER_USER_PYTHON, reachable(repro("client_hold.py")), d.socket,
                                            str(count)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], 120)
    check(ready, "client_hold.py did not report within 120 s")
    line = p.stdout.readline()
    check(line, "client_hold.py failed")
    return p, json.loads(line)


def let_go(p):
    p.stdin.close()
    p.wait(30)


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        raise Skip("RLIMIT_NOFILE hard limit %d is below %d" % (hard, want))
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # vigild inherits it


def case_per_uid_cap(tools):
    """One allowed user gets at most max_connections_per_user connections, then `failed`;
    root is still served. With a cap above what is left, that user stops 32 short of the
    1,024 connections in all: the rest are kept for root."""
    need_root("to run clients as another user")
    raise_nofile(1024 + 256)
    config = '[daemon]\nallowed_users = ["%d"]\nmax_connections_per_user = %%d\n' % NOBODY + ECHO
    d = started(tools, config % 8, dir_mode=0o755)
    holder = None
    try:
        holder, got = hold_as_nobody(d, 11)
        check(got["served"] == 8, "nobody holds %d connections, the cap is 8" % got["served"])
        check(len(got["refused"]) == 3 and all("max_connections_per_user" in m
                                               for m in got["refused"]), "%r" % got["refused"])
        check(d.ctl_json("status")["workers"][0]["state"] == "running", "root not served")
        let_go(holder)
        holder = None
        # The connections are free again once closed: once vigild has seen each end and its
        # session has answered what was asked on it (a closed client's requests still run),
        # which may come after a new client's connect. So the look is made again until then.
        tries = []

        def all_eight():
            p, got = hold_as_nobody(d, 8)
            tries.append(got["served"])
            if got["served"] == 8:
                return p, got
            let_go(p)
            return None
        try:
            holder, got = wait_for(all_eight, "nobody's 8 connections to be served again",
                                   timeout=30)
        except Failure as e:
            raise Failure("%s: after closing, nobody held %r" % (e, tries))
    finally:
        if holder:
            let_go(holder)
        d.cleanup()
    d = started(tools, config % 1024, dir_mode=0o755)
    try:
        holder, got = hold_as_nobody(d, 1024)
        check(got["served"] == 1024 - 32, "nobody holds %d of 1024" % got["served"])
        check(all("too many connections" in m for m in got["refused"]), "%r" % got["refused"])
        out = d.ctl("status").stdout
        check("root/echo" in out, "root not served while nobody holds 992: " + out)
        check(d.proc.poll() is None, "daemon died")
    finally:
        if holder:
            let_go(holder)
        d.cleanup()


def case_idle_timeout(tools):
    """A connection that sends no whole request within first_request_timeout is closed with
    a `failed` line; one that has sent a request may stay idle."""
    d = started(tools, '[daemon]\nfirst_request_timeout = "300ms"\n' + ECHO)
    try:
        busy = Client(d.socket)
        check(busy.call("hello")["ok"], "hello")
        silent = Client(d.socket, timeout=60)  # the bound only catches a hang
        partial = Client(d.socket, timeout=60)
        partial.send_raw(b'{"id":1,"cmd":')  # never finished
        for c in (silent, partial):
            reply = c.read_line()
            check(reply is not None, "an idle connection was closed without a word")
            expect_error(reply, "failed")
            check("first_request_timeout" in reply["error"]["message"], "%r" % reply)
            check(c.read_line() is None, "the idle connection stays open")
        # `busy` has been idle longer than the timeout by now, and is still served.
        check(busy.call("hello")["ok"], "a connection that had sent a request was closed")
        check(d.proc.poll() is None, "daemon died")
    finally:
        d.cleanup()


REFUSED_LINE = "refused a control connection from uid %d" % NOBODY
SUMMARY = re.compile(r"refused (\d+) more control connections since the last report")


def refusals_logged(log):
    """(lines about refusals, refusals they account for)."""
    lines = [l for l in log.splitlines() if REFUSED_LINE in l or SUMMARY.search(l)]
    total = sum(int(SUMMARY.search(l).group(1)) if SUMMARY.search(l) else 1 for l in lines)
    return len(lines), total


def case_refusal_warnings_rate_limited(tools):
    """3,000 refused clients are all accounted for in vigild's log, in about one line a
    second rather than one line each."""
    need_root("to run clients as another user")
    d = started(tools, '[daemon]\nallowed_users = ["12345"]\n' + ECHO, dir_mode=0o755)
    try:
        count = 3000
        start = time.monotonic()
        r = subprocess.run(as_user(NOBODY) + [OTHER_USER_PYTHON, reachable(repro("client_flood.py")), d.socket,
                                              str(count)],
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0 and r.stdout.strip() == str(count),
              "client_flood.py: %s %s" % (r.stdout, r.stderr))
        # The last summary is written once its second has passed.
        wait_for(lambda: refusals_logged(d.read_log())[1] >= count, "the refusals to be logged",
                 timeout=120)
        elapsed = time.monotonic() - start
        lines, total = refusals_logged(d.read_log())
        check(total == count, "the log accounts for %d refusals of %d" % (total, count))
        # One line when the flood starts, then at most one a second: the bound grows with
        # the time the flood took, so a slow machine only loosens it.
        check(lines <= elapsed + 3, "%d lines about refusals in %.1f s" % (lines, elapsed))
        check(d.ctl_json("status")["workers"][0]["state"] == "running", "root not served")
    finally:
        d.cleanup()


def case_large_reply(tools):
    """`vigilctl info` of a process whose mailbox holds over 4 MiB gets the whole reply
    (exit 0), as do pipelined large replies to a client that reads; a client that stops
    reading is still disconnected, and everyone else is served meanwhile."""
    d = started(tools, '[daemon]\nslow_reader_timeout = "1s"\n' + ECHO)
    try:
        owner = Client(d.socket, timeout=60)
        me = owner.call("hello")["result"]["self"]
        big = '"' + "x" * 50000 + '"'
        for _ in range(100):  # 5 MB waiting in the session's mailbox
            check(owner.call("send", {"target": "self", "term": big})["ok"], "send to self")
        r = d.ctl("--json", "info", me)
        info = json.loads(r.stdout)["info"]
        check(len(info["messages"]) == 100 and len(r.stdout) > 5000000,
              "info of a 5 MB mailbox: %d messages, %d bytes"
              % (len(info["messages"]), len(r.stdout)))
        r = d.ctl("info", me)
        check(r.stdout.count("x" * 50000) == 100, "the human output is cut")
        # Pipelined: three such replies, all read.
        reader = Client(d.socket, timeout=60)
        line = ('{"id":7,"cmd":"info","args":{"target":"%s"}}\n' % me).encode()
        reader.send_raw(line * 3)
        for _ in range(3):
            reply = reader.read_line()
            check(reply is not None and reply["ok"], "pipelined large reply lost")
        # A client that asks for the same and never reads is cut off, and nobody waits.
        slow = Client(d.socket, timeout=60)
        slow.sock.setblocking(False)
        wait_for(lambda: "does not read its replies" in d.read_log() or not send_some(slow, line),
                 "the non-reading client to be cut off", timeout=60)
        check(Client(d.socket).call("hello")["ok"], "another client is not served")
        wait_for(lambda: "does not read its replies" in d.read_log(), "the log line", timeout=60)
        check(owner.call("hello")["ok"], "the mailbox's owner lost service")
        check(d.proc.poll() is None, "daemon died")
    finally:
        d.cleanup()


def send_some(c, line):
    """Sends `line` while the socket takes it; False once the daemon closed the connection."""
    try:
        c.sock.send(line)
    except BlockingIOError:
        pass
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def case_duplicate_keys(tools):
    """A request with a key twice in one object is bad_request, whatever the key; it once
    ran as its last `cmd` and shut vigild down."""
    d = started(tools, ECHO)
    try:
        c = Client(d.socket)
        for raw in (b'{"id":1,"cmd":"status","cmd":"shutdown"}\n',
                    b'{"id":1,"cmd":"shutdown","\\u0063md":"status"}\n',
                    b'{"id":1,"id":2,"cmd":"hello"}\n',
                    b'{"id":1,"cmd":"stop","args":{"name":"nothing","name":"echo"}}\n'):
            c.send_raw(raw)
            reply = c.read_line()
            expect_error(reply, "bad_request")
            check("duplicate key" in reply["error"]["message"], "%r" % reply)
        check(d.proc.poll() is None, "vigild exited:\n" + d.read_log()[-2000:])
        check(c.call("status")["result"]["workers"][0]["state"] == "running",
              "echo stopped or status fails")
    finally:
        d.cleanup()


ESCAPE_CONFIG = """
[[supervisor.children]]
id = "evil"
command = ["%s"]
shutdown = "1s"
"""


def run_on_pty(argv, until=None, timeout=60):
    """Runs argv with its stdout and stderr on a new pseudo-terminal; what the terminal got.
    With `until`, stops the program once that many bytes have shown up."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if until is not None and until in out:
                break
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the program closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(30)
        os.close(master)
    return out


def case_logs_escape(tools):
    """`vigilctl logs` and `logs -f` on a terminal print a worker's control characters as
    \\xHH, so its escape sequences never reach the terminal (`--json` there is written in
    ASCII); `--raw` and output that is not a terminal keep them as they are."""
    d = started(tools, ESCAPE_CONFIG % repro("client_escape_worker.sh"))
    try:
        wait_for(lambda: any("after" in l["line"] for l in d.ctl_json("logs", "evil")["lines"]),
                 "the worker's output")
        ctl = [d.vigilctl, "--socket", d.socket, "--timeout", "20s"]
        escaped = b"before \\x1b]0;pwned\\x07\\x1b[2J\\x9b2J after"
        for args in (["logs", "evil"], ["logs", "-f", "evil"]):
            out = run_on_pty(ctl + args, until=b"after" if "-f" in args else None)
            check(escaped in out, "%s on a terminal: %r" % (" ".join(args), out))
            check(b"\x1b" not in out and b"\x07" not in out and b"\xc2\x9b" not in out,
                  "%s let a control character through: %r" % (" ".join(args), out))
        # --json on a terminal: the same JSON, in ASCII.
        out = run_on_pty(ctl + ["--json", "logs", "evil"])
        check(b"\x1b" not in out and b"\xc2\x9b" not in out, "--json on a terminal: %r" % out)
        lines = json.loads(out.decode().strip().splitlines()[0])["lines"]
        check(any(l["line"] == "before \x1b]0;pwned\x07\x1b[2J\x9b2J after" for l in lines),
              "--json changed the text: %r" % lines)
        raw = b"before \x1b]0;pwned\x07\x1b[2J\xc2\x9b2J after"
        out = run_on_pty(ctl + ["logs", "--raw", "evil"])
        check(raw in out, "--raw on a terminal: %r" % out)
        out = subprocess.run(ctl + ["logs", "evil"], capture_output=True, timeout=30).stdout
        check(raw in out, "not a terminal: %r" % out)
    finally:
        d.cleanup()
