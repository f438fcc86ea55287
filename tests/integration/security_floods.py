# SPDX-License-Identifier: Apache-2.0
"""Security cases of what one local user may do to the others through the control socket and
the observer (docs/security.md): the cost of its pipelined requests, its share of the
observer's connections, its refusals in the log, and the other clients' sessions it may
read. The repro programs are in tests/security/.

Each case_* function takes the tools of security_test.py."""

import json
import os
import re
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_base import (ECHO, NOBODY, OTHER_USER_PYTHON, as_user, ctl_as,  # noqa: E402
                           daemon, need_root, reachable, started)
from vigild_harness import Client, check, wait_for  # noqa: E402

REPROS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "security")

# What one connection may cost: the replies its session may leave unread before it waits
# (reply_backlog_limit: 4 MiB of what the replies hold, their text and their strings and
# queue entries), the unparsed bytes and 256 queued requests. Measured: 4.2 MiB a connection
# in a release build, 6.0 MiB under AddressSanitizer. When the backlog counted only reply
# text, 86-byte error replies held 9.9 MiB a connection (release); parsing every line at
# once cost about 80 MB.
PER_CONNECTION_BOUND = 8 << 20


def resident_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_ticks_if_asleep(pid):
    """vigild's CPU time (user + system, in clock ticks) when none of its threads is running
    or runnable; None while one is."""
    ticks = 0
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, task)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # a thread that ended meanwhile
        if fields[0] == "R":
            return None
        ticks += int(fields[11]) + int(fields[12])
    return ticks


def wait_until_idle(pid, what, timeout=90.0):
    """Waits until vigild has done all the work its clients gave it (every session waits for
    its client to read): all its threads asleep, its CPU time unchanged, for 25 looks in a
    row."""
    seen = {"ticks": None, "same": 0}

    def idle():
        ticks = cpu_ticks_if_asleep(pid)
        seen["same"] = seen["same"] + 1 if ticks is not None and ticks == seen["ticks"] else 0
        seen["ticks"] = ticks
        return seen["same"] >= 25

    wait_for(idle, what, timeout)


def case_pipelined_requests_bounded(tools):
    """An allowed user that pipelines a socket's worth of one-byte requests on each of 16
    connections and reads no reply: root's `vigilctl status` is served meanwhile, and once
    every session waits for its client, vigild holds no more per connection than its reply
    backlog and a little more (it once parsed every line at once: 262,144 requests and about
    90 MB a connection, the loop busy; then its backlog counted only reply text, and tiny
    replies held 2.4 times their 4 MiB)."""
    need_root("to run the client as another user")
    count = 16
    config = '[daemon]\nallowed_users = ["%d"]\n' % NOBODY + ECHO
    d = daemon(tools, config, dir_mode=0o755)
    flood = None
    try:
        # Memory freed and held in AddressSanitizer's quarantine is not memory vigild holds.
        asan = os.environ.get("ASAN_OPTIONS", "")
        d.start(extra_env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=0"})
        check(d.ctl_json("status")["workers"][0]["state"] == "running", "not running")
        before = resident_bytes(d.proc.pid)
        flood = subprocess.Popen(
            as_user(NOBODY) + [OTHER_USER_PYTHON, reachable(os.path.join(REPROS, "client_pipeline.py")),
                               d.socket, str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([flood.stdout], [], [], 120)
        check(ready, "client_pipeline.py did not report within 120 s")
        got = json.loads(flood.stdout.readline() or "{}")
        check(got.get("connections") == count, "the flood did not connect: %r" % got)
        # Served within vigilctl's own deadline while the flood waits.
        check(d.ctl_json("status")["workers"][0]["state"] == "running", "root not served")
        # Measured once the sessions have run all they may: each waits on its backlog.
        wait_until_idle(d.proc.pid, "vigild to run the flood's requests up to its backlogs")
        grown = resident_bytes(d.proc.pid) - before
        check(grown < count * PER_CONNECTION_BOUND,
              "vigild grew by %d MB for %d connections of pipelined requests (%d bytes)"
              % (grown >> 20, count, got["bytes"]))
        check(d.proc.poll() is None, "vigild exited:\n" + d.read_log()[-2000:])
    finally:
        if flood:
            flood.stdin.close()
            flood.wait(30)
        d.cleanup()


CHATTY = ECHO + """
[[supervisor.children]]
id = "chatty"
command = ["yes", "a line from a child that writes as fast as it can"]
"""


def case_unread_followers_bounded(tools):
    """Clients that follow a chatty child's log (`logs -f`) and read nothing are each
    disconnected once their unread lines hold 4 MiB (what the lines hold, counted as replies
    are: their text and what holds each), and root is served meanwhile. Their memory is not
    asserted here: under AddressSanitizer the freed lines stay in its quarantine, so vigild's
    peak grows by ~200 MB with no follower at all. In a release build, 8 such followers raised
    vigild's peak by 25-61 MB (57 MB and more when only the text was counted)."""
    count = 8
    d = started(tools, CHATTY)
    followers = []
    try:
        wait_for(lambda: d.ctl_json("logs", "chatty", "-n", "1")["lines"], "chatty's lines")
        for _ in range(count):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            # A small receive buffer: what waits, waits in vigild.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(d.socket)
            s.sendall(b'{"id":1,"cmd":"logs","args":{"name":"chatty","follow":true}}\n')
            followers.append(s)
        wait_for(lambda: d.read_log().count("does not read its events") >= count,
                 "vigild to disconnect the %d followers" % count, timeout=120)
        check(d.ctl_json("status")["workers"], "root's status while the followers were cut off")
        check(d.proc.poll() is None, "vigild exited")
    finally:
        for s in followers:
            s.close()
        d.cleanup()


def start_holder(script, observer, count):
    """Runs tests/security/`script` as nobody against `observer`: it holds `count`
    connections until its stdin closes. Returns the process and the JSON line it reports
    once it holds what it could."""
    holder = subprocess.Popen(
        as_user(NOBODY) + [OTHER_USER_PYTHON, reachable(os.path.join(REPROS, script)),
                           observer, str(count)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([holder.stdout], [], [], 120)
        check(ready, "%s did not report within 120 s" % script)
        return holder, json.loads(holder.stdout.readline() or "{}")
    except BaseException:
        holder.kill()
        holder.wait(30)
        raise


def stop_holder(holder):
    """Lets a start_holder() process go and waits for it."""
    if holder:
        holder.stdin.close()
        holder.wait(30)


def observer_get(path, target):
    """(status, body) of GET `target` on the observer's Unix socket; (0, why) when the
    connection is closed unanswered."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: vigild\r\nConnection: close\r\n\r\n"
                   % target).encode())
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError as e:
        return 0, str(e)
    finally:
        s.close()
    if not got.startswith(b"HTTP/1.1 "):
        return 0, "closed unanswered: %r" % got[:200]
    return int(got.split(b" ", 2)[1]), got.decode(errors="replace")


def case_observer_refused_peers_hold_nothing(tools):
    """A user the control socket does not allow opens 300 silent connections to the
    observer's Unix socket: it gets 401 for a request, and root's scrape of /metrics is still
    answered while it holds them (the refused peers once took the observer's 256 sessions, each until the request
    timeout)."""
    need_root("to run the client as another user")
    count = 300
    d = daemon(tools, ECHO, dir_mode=0o755)
    observer = os.path.join(d.dir, "observer.sock")
    # A long request timeout: the held connections outlast the test instead of timing out.
    d.write_config('[daemon]\nfirst_request_timeout = "120s"\n\n[observer]\nlisten = "%s"\n'
                   % observer + ECHO)
    holder = None
    try:
        d.start()
        wait_for(lambda: os.path.exists(observer), "the observer's socket")
        status, body = observer_get(observer, "/metrics")
        check(status == 200, "root's scrape before the flood: %d %s" % (status, body[:200]))
        refused = subprocess.run(
            as_user(NOBODY) + [OTHER_USER_PYTHON, "-c", REFUSED_SCRAPE, observer],
            capture_output=True, text=True, timeout=60)
        check(refused.stdout.startswith("HTTP/1.1 401"),
              "nobody's request: %r %r" % (refused.stdout[:200], refused.stderr[-500:]))
        holder, got = start_holder("observer_hold.py", observer, count)
        check(got.get("connections") == count, "the holder did not connect: %r" % got)
        # Accepted after all of the holder's connections (the listen queue is in order).
        status, body = observer_get(observer, "/metrics")
        check(status == 200, "root's scrape with %d refused peers holding: %s"
              % (count, body[:200]))
    finally:
        stop_holder(holder)
        d.cleanup()


# What nobody sees of a request: the status line (or nothing, when closed unanswered).
REFUSED_SCRAPE = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(b"GET /metrics HTTP/1.1\\r\\nHost: vigild\\r\\n\\r\\n")
print(s.recv(65536).decode(errors="replace").split("\\r\\n")[0])
"""


OBSERVER_REFUSED_LINE = "observer: refused uid %d" % NOBODY
OBSERVER_SUMMARY = re.compile(r"refused (\d+) more observer connections since the last report")

# Connects COUNT times to the observer's socket and closes each connection at once.
CONNECT_AND_CLOSE = """
import socket, sys
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.close()
print("done")
"""


def observer_refusals_logged(log):
    """(lines about refused observer peers, refusals they account for)."""
    lines = [l for l in log.splitlines()
             if OBSERVER_REFUSED_LINE in l or OBSERVER_SUMMARY.search(l)]
    total = sum(int(OBSERVER_SUMMARY.search(l).group(1)) if OBSERVER_SUMMARY.search(l) else 1
                for l in lines)
    return len(lines), total


def case_observer_refusals_rate_limited(tools):
    """3,000 connections to the observer's Unix socket by a user the control socket does not
    allow are all accounted for in vigild's log, in about one line a second rather than one
    line each (the observer once wrote a line per refused connection: any local user could
    fill the log)."""
    need_root("to run the client as another user")
    count = 3000
    d = daemon(tools, ECHO, dir_mode=0o755)
    observer = os.path.join(d.dir, "observer.sock")
    d.write_config('[observer]\nlisten = "%s"\n' % observer + ECHO)
    try:
        d.start()
        wait_for(lambda: os.path.exists(observer), "the observer's socket")
        start = time.monotonic()
        r = subprocess.run(as_user(NOBODY) + [OTHER_USER_PYTHON, "-c", CONNECT_AND_CLOSE, observer,
                                              str(count)],
                           capture_output=True, text=True, timeout=300)
        check(r.stdout.strip() == "done", "the flood failed: %s %s" % (r.stdout, r.stderr))
        # The last summary is written once its second has passed.
        wait_for(lambda: observer_refusals_logged(d.read_log())[1] >= count,
                 "the refusals to be logged (%d of %d)"
                 % (observer_refusals_logged(d.read_log())[1], count), timeout=120)
        elapsed = time.monotonic() - start
        lines, total = observer_refusals_logged(d.read_log())
        check(total == count, "the log accounts for %d refusals of %d" % (total, count))
        check(lines <= elapsed + 3, "%d lines about refusals in %.1f s" % (lines, elapsed))
        status, body = observer_get(observer, "/metrics")
        check(status == 200, "root's scrape after the flood: %d %s" % (status, body[:200]))
    finally:
        d.cleanup()


def case_observer_per_user_cap(tools):
    """An allowed user who follows the observer's event stream on 300 connections holds at
    most max_connections_per_user of them, and root's scrape of /metrics is still answered
    (the streams, which never time out, once took all 256 sessions and the observer from
    root for as long as that user liked)."""
    need_root("to run the client as another user")
    count = 300
    d = daemon(tools, ECHO, dir_mode=0o755)
    observer = os.path.join(d.dir, "observer.sock")
    d.write_config('[daemon]\nallowed_users = ["%d"]\nmax_connections_per_user = 20\n\n'
                   '[observer]\nlisten = "%s"\n' % (NOBODY, observer) + ECHO)
    holder = None
    try:
        d.start()
        wait_for(lambda: os.path.exists(observer), "the observer's socket")
        holder, got = start_holder("observer_streams.py", observer, count)
        check(got.get("streams") == 20, "nobody holds %r streams, the cap is 20" % got)
        status, body = observer_get(observer, "/metrics")
        check(status == 200, "root's scrape while nobody holds its streams: %d %s"
              % (status, body[:200]))
    finally:
        stop_holder(holder)
        d.cleanup()


def case_session_messages_private(tools):
    """Messages waiting in a client's session are that client's: another allowed user's
    `vigilctl info` of root's session is refused with `protected` and shows none of them (it
    once printed them, and the hub's monitors name every session's pid), while root, and the
    user on its own session, still see what waits there."""
    need_root("to run vigilctl as another user")
    d = started(tools, '[daemon]\nallowed_users = ["%d"]\n' % NOBODY + ECHO, dir_mode=0o755)
    try:
        admin = Client(d.socket)
        mine = admin.call("hello")["result"]["self"]
        secret = "s3cret-%d" % os.getpid()
        check(admin.call("send", {"target": "self", "term": '{:token, "%s"}' % secret})["ok"],
              "root's send to its own session")
        r = ctl_as(d, NOBODY, NOBODY, "--json", "info", mine)
        check(secret not in r.stdout + r.stderr, "nobody read root's session:\n" + r.stdout)
        check(r.returncode == 1 and "protected" in r.stderr,
              "nobody's info of root's session: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
        r = d.ctl("--json", "info", mine)
        check(secret in r.stdout, "root no longer sees what waits in a session:\n" + r.stdout)
        # A user's own other session is its own.
        helper = subprocess.run(
            as_user(NOBODY) + [OTHER_USER_PYTHON, "-c", OWN_SESSION, d.socket,
                               reachable(d.vigilctl)],
            capture_output=True, text=True, timeout=60)
        check(helper.returncode == 0 and "mine-too" in helper.stdout,
              "nobody's info of its own other session: %s %s" % (helper.stdout, helper.stderr))
        admin.close()
    finally:
        d.cleanup()


# As nobody: a session that holds a message, and vigilctl's info of it from another session.
OWN_SESSION = """
import json, socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rwb")
def call(cmd, args=None):
    f.write((json.dumps({"id": 1, "cmd": cmd, "args": args or {}}) + "\\n").encode()); f.flush()
    return json.loads(f.readline())
me = call("hello")["result"]["self"]
assert call("send", {"target": "self", "term": ":\\"mine-too\\""})["ok"]
r = subprocess.run([sys.argv[2], "--socket", sys.argv[1], "--json", "info", me],
                   capture_output=True, text=True, timeout=30)
print(r.stdout, r.stderr)
sys.exit(r.returncode)
"""
