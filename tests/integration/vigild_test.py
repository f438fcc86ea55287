#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of vigild: the real daemon in a temporary directory, driven by the real
vigilctl (and a raw client for malformed input).

Usage: vigild_test.py VIGILD VIGILCTL SOURCE_DIR CASE
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import (OTHER_USER_PYTHON, Client, Daemon, Failure, check,  # noqa: E402
                            expect_error, wait_for)

SMALL = """
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "echo"
kind = "echo"
args = { name = "echo" }

[[supervisor.children]]
id = "slow"
kind = "echo"
args = { delay = 100 }

[[supervisor.children]]
id = "jobs"
type = "supervisor"

  [[supervisor.children.children]]
  id = "dispatcher"
  kind = "dispatcher"
"""


def status_rows(d):
    return {row["path"]: row for row in d.ctl_json("status")["workers"]}


def pids_of(rows):
    return {path: row["pid"] for path, row in rows.items()}


def pids(d):
    return pids_of(status_rows(d))


# -- cases ---------------------------------------------------------------------------------


def case_demo(vigild, vigilctl, source):
    """The demo config validates, runs, and stops cleanly on SIGTERM."""
    demo = os.path.join(source, "configs", "demo.toml")
    r = subprocess.run([vigild, "--check-config", "--config", demo], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0, "--check-config failed: " + r.stderr)
    check("worker dispatcher kind=dispatcher" in r.stdout, "tree not printed:\n" + r.stdout)
    r = subprocess.run([vigild, "--version"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "vigild 0.1.0" in r.stdout, "--version: " + r.stdout)
    with open(demo) as f:
        d = Daemon(vigild, vigilctl, f.read())
    try:
        d.start()
        check(oct(os.stat(d.socket).st_mode & 0o777) == oct(0o600), "socket mode not 0600")
        check(oct(os.stat(os.path.dirname(d.socket)).st_mode & 0o777) == oct(0o700),
              "socket directory mode not 0700")
        rows = status_rows(d)
        check(set(rows) == {"root/echo", "root/slow_echo", "root/jobs", "root/jobs/dispatcher"},
              "unexpected status: %r" % rows)
        check(all(r["state"] == "running" for r in rows.values()), "not all running")
        tree = d.ctl("tree").stdout
        check("dispatcher" in tree and "one_for_one" in tree, "tree:\n" + tree)
        d.signal(signal.SIGTERM)
        code = d.wait()
        check(code == 0, "SIGTERM exit code %d" % code)
        check(not os.path.exists(d.socket), "socket file left behind")
    finally:
        d.cleanup()


def case_commands(vigild, vigilctl, source):
    """Every command of the protocol, through vigilctl where it has one."""
    d = Daemon(vigild, vigilctl, SMALL).start()
    try:
        c = Client(d.socket)
        hello = c.call("hello")["result"]
        check(hello["daemon"] == "vigild" and hello["protocol"] == 1, "hello: %r" % hello)
        check(hello["self"].startswith("#PID<"), "hello self: %r" % hello)
        rows = status_rows(d)
        check(len(rows) == 4, "status rows %r" % rows)
        one = d.ctl_json("status", "dispatcher")["workers"]
        check([w["path"] for w in one] == ["root/jobs/dispatcher"], "status NAME: %r" % one)
        tree = d.ctl_json("tree")["tree"]
        check(tree["id"] == "root" and len(tree["children"]) == 3, "tree: %r" % tree)

        # send with self() and --await: the echo worker answers the session.
        out = d.ctl("send", "echo", "{self(), :ping}", "--await", "2s").stdout
        check("{:ok, :pong}" in out, "send --await: " + out)
        # By registered name, with and without the colon.
        out = d.ctl("send", ":echo", "{self(), :ping}", "--await", "2s").stdout
        check("{:ok, :pong}" in out, "send :echo: " + out)
        # An atom that no process is registered as falls back to the worker with that id.
        out = d.ctl("send", ":slow", "{self(), :ping}", "--await", "2s").stdout
        check("{:ok, :pong}" in out, "send :slow: " + out)

        info = d.ctl_json("info", "echo")["info"]
        check(info["registered_name"] == ":echo" and info["path"] == "root/echo", "info %r" % info)
        d.ctl("info", "<0.999999.1>", expect=1)

        old_pid = rows["root/echo"]["pid"]
        d.ctl("kill", "echo")
        wait_for(lambda: status_rows(d)["root/echo"]["pid"] not in (old_pid, None),
                 "echo to restart with a new pid")
        check(status_rows(d)["root/echo"]["restarts"] == 1, "restart count")

        d.ctl("stop", "slow")
        check(status_rows(d)["root/slow"]["state"] == "stopped", "stop")
        started = d.ctl_json("start", "slow")
        check(started["pid"].startswith("#PID<"), "start: %r" % started)
        restarted = d.ctl_json("restart", "root/jobs/dispatcher")
        check(restarted["pid"] != rows["root/jobs/dispatcher"]["pid"], "restart: %r" % restarted)
        d.ctl("start", "nothing", expect=1)

        spawned = d.ctl_json("spawn", "echo", "%{delay: 0}")["pid"]
        alive = c.call("alive", {"target": spawned})["result"]
        check(alive == {"alive": True}, "alive spawned: %r" % alive)
        out = d.ctl("send", spawned, "{self(), :hi}", "--await", "2s").stdout
        check("{:ok, :pong}" in out, "send to spawned: " + out)
        d.ctl("kill", spawned, "{:shutdown, :bye}")
        wait_for(lambda: c.call("alive", {"target": spawned})["result"] == {"alive": False},
                 "the spawned process to die")
        d.ctl("spawn", "no_such_kind", expect=1)

        # flush and receive work on the session's mailbox.
        c.call("send", {"target": "echo", "term": "{self(), 1}"})
        reply = c.call("receive", {"timeout_ms": 2000})["result"]
        check(reply == {"message": "{:ok, :pong}"}, "receive: %r" % reply)
        c.call("send", {"target": "self", "term": ":hello"})
        flushed = c.call("flush")["result"]
        check(flushed == {"messages": [":hello"]}, "flush: %r" % flushed)
        check(c.call("receive", {"timeout_ms": 0})["result"] == {"message": None}, "empty")

        names = d.ctl_json("registered")["names"]
        check(any(n["name"] == ":echo" for n in names), "registered: %r" % names)
        logs = d.ctl_json("logs", "echo")
        check(logs == {"lines": []}, "logs: %r" % logs)
        events = d.ctl_json("events")["events"]
        kinds = [e["event"] for e in events]
        for kind in ("process_started", "process_exited", "process_restarted"):
            check(kind in kinds, "no %s in events %r" % (kind, kinds))

        plan = d.ctl_json("reload", "--dry-run")
        check(plan == {"plan": [], "applied": False}, "reload --dry-run: %r" % plan)

        # The shell: self(), send, flush, and a new session after exiting self.
        shell = d.ctl("shell", stdin="s = self()\nsend(s, :x)\nflush()\n").stdout
        check(":x" in shell, "shell: " + shell)

        follower = Client(d.socket)
        follower.call("events", {"follow": True, "last": 0})
        d.ctl("kill", "echo")
        event = follower.read_line()
        check(event["event"] == "process_exited" and event["path"] == "root/echo",
              "followed event %r" % event)

        check(d.ctl_json("shutdown") == {"stopping": True}, "shutdown")
        check(d.wait() == 0, "exit code after shutdown")
    finally:
        d.cleanup()


def case_bad_input(vigild, vigilctl, source):
    """Malformed, oversized and unknown requests get errors; the daemon keeps running."""
    d = Daemon(vigild, vigilctl, SMALL).start()
    try:
        c = Client(d.socket)
        c.send_raw(b"this is not json\n")
        r = c.read_line()
        expect_error(r, "bad_request")
        check(r["id"] is None, "garbage reply id %r" % r)
        c.send_raw(b"[1,2,3]\n{}\n")
        expect_error(c.read_line(), "bad_request")
        expect_error(c.read_line(), "bad_request")
        expect_error(c.call("launch_missiles"), "unknown_command")
        r = c.call("status", v=2)
        expect_error(r, "unsupported_version")
        check(r["id"] == c.next_id - 1, "id copied on error")
        expect_error(c.call("status", {"bogus": 1}), "invalid_argument")
        expect_error(c.call("info", {}), "invalid_argument")
        expect_error(c.call("send", {"target": "echo", "term": "{:ok"}), "invalid_argument")
        expect_error(c.call("send", {"target": "a b", "term": ":ok"}), "invalid_argument")
        expect_error(c.call("kill", {"target": "echo", "reason": "%{"}), "invalid_argument")
        expect_error(c.call("info", {"target": "no_such_worker"}), "not_found")
        expect_error(c.call("send", {"target": "echo", "term": "[" * 100 + "]" * 100}),
                     "invalid_argument")
        # Replies keep request order even when errors are mixed in.
        c.send_raw(b'{"id":1,"cmd":"hello"}\nnope\n{"id":3,"cmd":"hello"}\n')
        ids = [c.read_line()["id"] for _ in range(3)]
        check(ids == [1, None, 3], "order %r" % ids)
        check(c.call("hello")["ok"], "connection still usable")

        big = Client(d.socket)
        big.send_raw(b'{"cmd":"hello","pad":"' + b"x" * 70000 + b'"}\n')
        expect_error(big.read_line(), "too_large")
        check(big.closed(), "connection not closed after too_large")

        check(Client(d.socket).call("hello")["ok"], "daemon still answers")
        check(d.proc.poll() is None, "daemon died")

        # A client that sends and closes at once still gets its request run.
        gone = Client(d.socket)
        gone.send_raw(b'{"cmd":"shutdown"}\n')
        gone.close()
        check(d.wait() == 0, "exit code after a fire-and-forget shutdown")
    finally:
        d.cleanup()


def case_slow_client(vigild, vigilctl, source):
    """A client that never reads is cut off once it has read nothing for slow_reader_timeout
    (its session runs no more requests while 4 MiB of replies wait); others are served
    meanwhile."""
    d = Daemon(vigild, vigilctl, '[daemon]\nslow_reader_timeout = "1s"\n' + SMALL).start()
    try:
        slow = Client(d.socket, timeout=5)
        # Fill the session's mailbox with 1 MB, so that each `info self` reply is that big.
        big = '"' + "x" * 50000 + '"'
        for _ in range(20):
            check(slow.call("send", {"target": "self", "term": big})["ok"], "send to self")
        slow.sock.setblocking(False)
        line = b'{"cmd":"info","args":{"target":"self"}}\n'
        sent = 0
        start = time.monotonic()
        while time.monotonic() - start < 20:
            try:
                sent += slow.sock.send(line)
            except BlockingIOError:
                # The daemon stopped reading us: our requests wait for replies nobody reads.
                # (The client's own 10 s timeout catches another client left waiting.)
                check(Client(d.socket).call("hello")["ok"], "other client served")
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.001)
        else:
            raise Failure("the slow client was never disconnected")
        check("does not read its replies" in d.read_log(), "no log line about the slow client")
        check(Client(d.socket).call("hello")["ok"], "daemon still answers")
    finally:
        d.cleanup()


AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
# The system's python: the one running the tests may live where nobody cannot read it.
OTHER_USER_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PROBE = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"id":1,"cmd":"hello"}\\n')
except (BrokenPipeError, ConnectionResetError):
    pass  # refused at once: the error line is already waiting to be read
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    if data.endswith(b"\\n"):
        break
print(data.decode().strip())
"""


def case_unauthorized(vigild, vigilctl, source):
    """A peer that is not allowed gets `unauthorized` and is disconnected."""
    if os.geteuid() != 0:
        print("SKIP: needs root to run a client as another user")
        return
    for allowed, expect_ok in (("12345", False), ("65534", True)):
        d = Daemon(vigild, vigilctl, '[daemon]\nallowed_users = ["%s"]\n' % allowed + SMALL,
                   dir_mode=0o755).start()
        try:
            check(oct(os.stat(d.socket).st_mode & 0o777) == oct(0o666),
                  "socket mode with allowed users")
            r = subprocess.run(AS_NOBODY + [OTHER_USER_PYTHON, "-c", PROBE, d.socket],
                               capture_output=True, text=True, timeout=20)
            check(r.returncode == 0, "probe failed: " + r.stderr)
            reply = json.loads(r.stdout)
            if expect_ok:
                check(reply["ok"] is True, "allowed user refused: %r" % reply)
            else:
                expect_error(reply, "unauthorized")
                check("refused a control connection from uid 65534" in d.read_log(),
                      "refusal not logged")
            check(Client(d.socket).call("hello")["ok"], "root still served")
        finally:
            d.cleanup()


def case_reload(vigild, vigilctl, source):
    """reload --dry-run, reload, an invalid file, and SIGHUP."""
    d = Daemon(vigild, vigilctl, SMALL).start()
    try:
        before = status_rows(d)
        changed = SMALL.replace('args = { delay = 100 }', 'args = { delay = 200 }') \
            .replace('id = "echo"\nkind = "echo"\nargs = { name = "echo" }\n',
                     'id = "fresh"\nkind = "echo"\n')
        d.write_config(changed)
        plan = d.ctl_json("reload", "--dry-run")
        actions = {p["path"]: p["action"] for p in plan["plan"]}
        check(actions == {"root/echo": "stop", "root/slow": "restart", "root/fresh": "start"},
              "dry-run plan %r" % plan)
        check(plan["applied"] is False and pids(d) == pids_of(before), "dry run changed the tree")

        applied = d.ctl_json("reload")
        check(applied["applied"] is True, "reload: %r" % applied)
        rows = status_rows(d)
        check("root/echo" not in rows and "root/fresh" in rows, "after reload: %r" % rows)
        check(rows["root/slow"]["pid"] != before["root/slow"]["pid"], "slow not restarted")
        check(rows["root/jobs/dispatcher"]["pid"] == before["root/jobs/dispatcher"]["pid"],
              "an unchanged child was touched")
        events = [e["event"] for e in d.ctl_json("events")["events"]]
        check("config_reloaded" in events, "no config_reloaded event")

        d.write_config(changed + "\n[[supervisor.children]]\nid = \"bad\"\nrestart = \"often\"\n")
        r = d.ctl("reload", expect=1)
        check("vigil.toml:" in r.stderr and "restart" in r.stderr, "errors: " + r.stderr)
        check(set(status_rows(d)) == set(rows), "an invalid file changed the tree")

        d.write_config(changed + '\n[[supervisor.children]]\nid = "late"\nkind = "echo"\n')
        d.signal(signal.SIGHUP)
        wait_for(lambda: "root/late" in status_rows(d), "SIGHUP to add a child")
    finally:
        d.cleanup()


def case_exits(vigild, vigilctl, source):
    """Exit codes: SIGINT 0, a config error 100, a socket in use 111, a root that gives up
    (on_max_restarts = "escalate") 111; and a stale socket file is replaced."""
    d = Daemon(vigild, vigilctl, SMALL).start()
    try:
        again = Daemon(vigild, vigilctl, SMALL)
        again.socket = d.socket
        again.start(expect_ready=False)
        check(again.wait() == 111, "second vigild on the same socket")
        check("another vigild is listening" in again.read_log(), again.read_log())
        again.cleanup()
        d.signal(signal.SIGINT)
        check(d.wait() == 0, "SIGINT exit code")
    finally:
        d.cleanup()

    bad = Daemon(vigild, vigilctl, '[supervisor]\nstrategy = "sometimes"\n')
    try:
        bad.start(expect_ready=False)
        check(bad.wait() == 100, "config error exit code")
        check("vigil.toml:2:" in bad.read_log(), "no file:line:col: " + bad.read_log())
    finally:
        bad.cleanup()

    stale = Daemon(vigild, vigilctl, SMALL)
    try:
        os.makedirs(os.path.dirname(stale.socket), mode=0o750)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale.socket)
        s.close()
        stale.start()
        check(Client(stale.socket).call("hello")["ok"], "no service after a stale socket")
    finally:
        stale.cleanup()

    # The root holds a broken child by default (failure domains); OTP's escalation, up to
    # vigild's exit, is one line away.
    crashing = Daemon(vigild, vigilctl, """
[supervisor]
on_max_restarts = "escalate"
intensity = 2
period = "10s"

[[supervisor.children]]
id = "crasher"
kind = "crasher"
args = { crash_after = 300 }
""")
    try:
        crashing.start()
        follower = Client(crashing.socket)
        follower.call("events", {"follow": True, "last": 100})
        seen = []
        while True:
            event = follower.read_line()
            if event is None:
                break
            seen.append(event["event"])
        check("supervisor_gave_up" in seen, "events: %r" % seen)
        check(crashing.wait() == 111, "exit code after the root gave up")
    finally:
        crashing.cleanup()


def case_cli(vigild, vigilctl, source):
    """vigilctl as people expect (docs/vigilctl.md): help with examples, a guess for a
    mistyped command, counts checked, no-op actions that succeed and say so, and streams that
    end with status 0 when vigild stops."""
    d = Daemon(vigild, vigilctl, SMALL).start()
    try:
        r = d.ctl("statuss", expect=2)
        check("unknown command 'statuss' (did you mean 'status'?)" in r.stderr, r.stderr)
        r = d.ctl("help", "send")
        check("Examples:" in r.stdout and "vigilctl send echo" in r.stdout, r.stdout)
        check("help" in d.ctl("help").stdout, "help lists no commands")
        d.ctl("help", "sned", expect=2)
        r = d.ctl("logs", "-n", "abc", "echo", expect=2)
        check("expected a whole number of at least 0, not 'abc'" in r.stderr
              and len(r.stderr) < 300, r.stderr)
        # Nothing to do is not a failure, either way round.
        r = d.ctl("start", "echo")
        check("echo: already running, #PID<" in r.stdout, r.stdout)
        d.ctl("stop", "slow")
        r = d.ctl("stop", "slow")
        check("slow: already stopped" in r.stdout, r.stdout)
        # Colour only on a terminal: a pipe gets plain text.
        check("\x1b[" not in d.ctl("status").stdout, "colour codes in a pipe")
        # A following stream ends with 0 and says why when vigild stops.
        streamed = os.path.join(d.dir, "events.out")
        with open(streamed, "w") as sink:
            follower = subprocess.Popen([vigilctl, "--socket", d.socket, "events", "-f"],
                                        stdout=sink, stderr=subprocess.PIPE, text=True)
        # It has subscribed once it printed the recent events (the tree's starts).
        wait_for(lambda: follower.poll() is not None or os.path.getsize(streamed) > 0,
                 "the follower to subscribe")
        d.ctl("shutdown")
        _, err = follower.communicate(timeout=30)
        with open(streamed) as f:
            out = f.read()
        check(follower.returncode == 0, "events -f exited %d: %s" % (follower.returncode, err))
        check("daemon_stopping" in out and "vigild stopped" in err, out + err)
    finally:
        d.cleanup()


def case_stop_streams_every_exit(vigild, vigilctl, source):
    """A follower of `events -f` sees the exit of every child of a stopped tree before its
    stream ends: the last one's too, though the runtime tells a supervisor of a death before
    it tells the event hub."""
    ids = ["cmd%d" % i for i in range(24)] + ["echo%d" % i for i in range(24)]
    config = '[supervisor]\nstrategy = "one_for_one"\n'
    for i in ids:
        if i.startswith("cmd"):
            config += '\n[[supervisor.children]]\nid = "%s"\ncommand = ["sleep", "1000"]\n' % i
        else:
            config += '\n[[supervisor.children]]\nid = "%s"\nkind = "echo"\n' % i
    d = Daemon(vigild, vigilctl, config).start()
    try:
        streamed = os.path.join(d.dir, "events.out")
        with open(streamed, "w") as sink:
            follower = subprocess.Popen([vigilctl, "--socket", d.socket, "--json", "events",
                                         "-f"], stdout=sink, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: follower.poll() is not None or os.path.getsize(streamed) > 0,
                 "the follower to subscribe")
        d.ctl("shutdown")
        _, err = follower.communicate(timeout=60)
        check(follower.returncode == 0, "events -f exited %d: %s" % (follower.returncode, err))
        exited = set()
        with open(streamed) as f:
            for line in f:
                for ev in json.loads(line).get("events", []) or [json.loads(line)]:
                    if ev.get("event") == "process_exited":
                        exited.add(ev["path"].rsplit("/", 1)[-1])
        missing = sorted(set(ids) - exited)
        check(not missing, "exits missing from the stream: %r" % missing)
    finally:
        d.cleanup()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main(argv):
    if len(argv) != 5 or argv[4] not in CASES:
        print(__doc__ + "cases: " + ", ".join(CASES), file=sys.stderr)
        return 2
    vigild, vigilctl, source, case = argv[1:]
    try:
        CASES[case](vigild, vigilctl, source)
    except Failure as e:
        print("FAIL: %s: %s" % (case, e), file=sys.stderr)
        return 1
    print("ok: " + case)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
