# SPDX-License-Identifier: Apache-2.0
"""Security cases about workers and vigild's own processes (issue 12, finding 1;
docs/security.md, "Workers"): an OS worker reaches only what it was given, and nobody outside
reaches the daemon's own processes. Run through security_test.py.

The hostile worker is tests/security/worker_probe.cpp, built on the worker SDK; its path
comes in VIGIL_WORKER_PROBE."""

import os
import shutil
import tempfile

from security_base import Skip, daemon, need_root, started
from vigild_harness import Client, check, expect_error, wait_for

PROBE_CONFIG = """
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "echo"
kind = "echo"
args = { name = "echo" }

[[supervisor.children]]
id = "echo2"
kind = "echo"
args = { name = "echo2" }

[[supervisor.children]]
id = "probe"
command = ["%s"]
user = "nobody"
may_send = ["echo"]
"""


def probe_copy():
    """The probe where `nobody` may run it: a fresh 0755 directory (the build tree and the
    daemon's directory may be closed to other users). Returns (path, directory)."""
    src = os.environ.get("VIGIL_WORKER_PROBE")
    if not src or not os.path.exists(src):
        raise Skip("VIGIL_WORKER_PROBE does not name the probe program")
    where = tempfile.mkdtemp(prefix="vigil-probe-")
    os.chmod(where, 0o755)
    path = os.path.join(where, "worker_probe")
    shutil.copy(src, path)
    os.chmod(path, 0o755)
    return path, where


def probe_daemon(tools):
    need_root("to run the worker as nobody")
    path, where = probe_copy()
    try:
        d = started(tools, PROBE_CONFIG % path)
    except BaseException:
        shutil.rmtree(where, ignore_errors=True)
        raise
    d.probe_dir = where
    return d


def finish(d):
    try:
        d.cleanup()
    finally:
        shutil.rmtree(d.probe_dir, ignore_errors=True)


def probe_info(d):
    return d.ctl_json("info", "probe")["info"]


def attached(d):
    return wait_for(lambda: (lambda i: i if i.get("attached") else None)(probe_info(d)),
                    "the probe to attach to its channel")


def registered(d, name):
    for entry in d.ctl_json("registered")["names"]:
        if entry["name"].lstrip(":") == name:
            return entry["pid"]
    raise AssertionError("no process is registered as " + name)


def ask(c, term, await_ms=10000):
    """Sends `term` to the probe; returns the replies that came within await_ms."""
    r = c.call("send", {"target": "probe", "term": term, "await_ms": await_ms})
    check(r["ok"], "send to the probe: %r" % r)
    return r["result"]["replies"]


def running_paths(d):
    return {row["path"] for row in d.ctl_json("status")["workers"] if row["state"] == "running"}


def case_worker_forged_root(tools):
    """An SDK worker running as nobody sends {:"$vigil_root", pid} to vigil_supervisor_reports
    and to the hub's pid (which it was even given): both are refused and counted, and when
    that pid dies vigild and every child keep running."""
    d = probe_daemon(tools)
    try:
        attached(d)
        hub = registered(d, "vigil_supervisor_reports")
        before = probe_info(d)
        check("refused" in before, "the port's info has no refused count: %r" % before)
        c = Client(d.socket)
        session = c.call("hello")["result"]["self"]
        replies = ask(c, '{self(), "forge_root", %s}' % hub)
        check(replies == ["{:ok, 2}"], "the probe's answer: %r" % replies)
        after = probe_info(d)
        check(after["refused"] - before["refused"] == 2,
              "refused %d -> %d, expected 2 more" % (before["refused"], after["refused"]))
        # The pid the worker tried to make the root dies now.
        c.close()
        watcher = Client(d.socket)
        wait_for(lambda: watcher.call("alive", {"target": session})["result"]["alive"] is False,
                 "the session to end")
        watcher.close()
        # A start after that death reaches the hub after the death's DOWN did: once the hub
        # has recorded it, it has handled the DOWN too.
        d.ctl("restart", "echo2")
        wait_for(lambda: any(e["event"] == "process_restarted" and e["path"] == "root/echo2"
                             for e in d.ctl_json("events")["events"]),
                 "the restart of echo2 in the events")
        events = d.ctl_json("events")["events"]
        roots = [e for e in events if e.get("path") == "root"]
        check([e["event"] for e in roots] == ["process_started"],
              "events about the root: %r" % roots)
        check(not any(e["event"] == "supervisor_gave_up" for e in events),
              "a supervisor gave up: %r" % events)
        check(d.proc.poll() is None, "vigild exited %r:\n%s" % (d.proc.poll(), d.read_log()))
        check(running_paths(d) >= {"root/echo", "root/echo2", "root/probe"},
              "children not running: %r" % running_paths(d))
    finally:
        finish(d)


def case_worker_capabilities(tools):
    """A worker answers a pid that was sent to it, sends to a name granted with may_send and to
    a pid it was given; a name it was not granted and pids it made up are dropped and counted
    in `refused`."""
    d = probe_daemon(tools)
    try:
        attached(d)
        c = Client(d.socket)
        check(ask(c, '{self(), "ping"}') == ["{:ok, :pong}"], "the probe's answer to a ping")
        base = probe_info(d)["refused"]
        check(base == 0, "refused before any refusal: %d" % base)

        # Granted: echo answers the session through the worker's request.
        replies = ask(c, '{self(), "via", "echo"}')
        replies += [m for m in (c.call("receive", {"timeout_ms": 10000})["result"]["message"]
                                for _ in range(2 - len(replies))) if m]
        check(sorted(replies) == sorted(['{:ok, "echo"}', "{:ok, :pong}"]),
              "a send to the granted name: %r" % replies)
        check(probe_info(d)["refused"] == base, "a granted send was counted as refused")

        # Not granted: refused and counted before the probe's answer arrives (one channel, in
        # order). echo2 never got it: its answer to a ping of our own is the only one.
        replies = ask(c, '{self(), "via", "echo2"}')
        check(replies == ['{:ok, "echo2"}'], "the probe's answer: %r" % replies)
        check(probe_info(d)["refused"] == base + 1, "the ungranted name was not counted")
        r = c.call("send", {"target": "echo2", "term": "{self(), :ping}", "await_ms": 10000})
        check(r["result"]["replies"] == ["{:ok, :pong}"], "echo2's answer: %r" % r)
        left = c.call("flush")["result"]["messages"]
        check(left == [], "echo2 answered the worker's refused send too: %r" % left)

        # A pid that was sent to the worker may be used; made-up ones may not.
        echo2 = registered(d, "echo2")
        replies = ask(c, '{self(), "to_pid", %s}' % echo2)
        replies += [m for m in (c.call("receive", {"timeout_ms": 10000})["result"]["message"]
                                for _ in range(2 - len(replies))) if m]
        check(sorted(replies) == sorted(["{:ok, %s}" % echo2, "{:ok, :pong}"]),
              "a send to a pid the worker was given: %r" % replies)
        check(probe_info(d)["refused"] == base + 1, "a given pid was refused")
        replies = ask(c, '{self(), "guess"}')
        check(len(replies) == 1 and replies[0].startswith("{:ok, "), "guess: %r" % replies)
        guessed = int(replies[0][len("{:ok, "):-1])
        check(probe_info(d)["refused"] == base + 1 + guessed,
              "made-up pids: refused %d, expected %d"
              % (probe_info(d)["refused"], base + 1 + guessed))
        check(c.call("flush")["result"]["messages"] == [], "a made-up pid got through")
        c.close()
    finally:
        finish(d)


def case_client_protected(tools):
    """send, kill and exit on vigild's own processes (the event hub by name and pid, the root
    supervisor, another client's session) get the error `protected`; vigild and its tree
    are unaffected and a client may still send to its own session."""
    d = started(tools, PROBE_CONFIG.split("[[supervisor.children]]\nid = \"probe\"")[0])
    try:
        hub = registered(d, "vigil_supervisor_reports")
        root = d.ctl_json("tree")["tree"]["pid"]
        other = Client(d.socket)
        other_session = other.call("hello")["result"]["self"]
        attempts = [
            ("send", ":vigil_supervisor_reports", '{:"$vigil_root", self()}'),
            ("send", "vigil_supervisor_reports", '{:"$vigil_root", self()}'),
            ("send", hub, '{:"$vigil_root", self()}'),
            ("kill", hub, None),
            ("kill", hub, ":shutdown"),  # Process.exit(hub, :shutdown)
            ("kill", hub, ":normal"),
            ("send", root, ":hello"),
            ("kill", root, None),
            ("kill", other_session, None),
            ("send", other_session, ":hello"),
        ]
        for cmd, target, term in attempts:
            args = [cmd, target] + ([term] if term is not None else [])
            r = d.ctl(*args, expect=1)
            check("protected" in r.stderr + r.stdout and "cannot be sent to, killed or exited"
                  in r.stderr + r.stdout,
                  "vigilctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        c = Client(d.socket)
        reply = c.call("kill", {"target": hub})
        expect_error(reply, "protected")
        check("event hub" in reply["error"]["message"], "message: %r" % reply)
        ok = c.call("send", {"target": "self", "term": ":mine", "await_ms": 5000})
        check(ok["ok"] and ok["result"]["replies"] == [":mine"], "own session: %r" % ok)
        c.close()
        check(other.call("hello")["ok"], "the other client's session was touched")
        other.close()
        check(d.proc.poll() is None, "vigild exited:\n" + d.read_log())
        check(registered(d, "vigil_supervisor_reports") == hub, "the hub changed")
        check(d.ctl_json("tree")["tree"]["pid"] == root, "the root changed")
        check(running_paths(d) >= {"root/echo", "root/echo2"}, "children stopped")
        events = d.ctl_json("events")["events"]
        check(not any(e["event"] in ("supervisor_gave_up", "process_exited") for e in events),
              "events: %r" % events)
    finally:
        d.cleanup()


def case_hub_death(tools):
    """If vigild's event hub dies anyway (VIGIL_TEST_KILL=hub kills it once vigild is ready),
    vigild says so and stops its tree with exit code 111: it never runs on half-blind."""
    os.environ["VIGIL_TEST_KILL"] = "hub"
    try:
        d = daemon(tools, PROBE_CONFIG.split("[[supervisor.children]]\nid = \"probe\"")[0])
        d.start(expect_ready=False)
    finally:
        del os.environ["VIGIL_TEST_KILL"]
    try:
        code = d.wait(60)
        log = d.read_log()
        check(code == 111, "vigild exit code %r, expected 111:\n%s" % (code, log))
        check("vigild's event hub" in log and "died (:killed)" in log and "vigild stops" in log,
              "no line naming the hub and its reason:\n" + log)
        check("vigild stopped (exit 111)" in log, "the tree was not stopped in order:\n" + log)
    finally:
        d.cleanup()



def case_worker_exit_reason_logged_escaped(tools):
    """An SDK worker running as nobody exits with a string reason holding a terminal escape
    sequence and a newline followed by a forged log line: vigild's supervisor report shows
    them as \\xHH text, so whoever reads vigild's log on a terminal gets no escape sequence
    and no line the worker wrote. The raw reason once went into the log as it was."""
    d = probe_daemon(tools)
    try:
        attached(d)
        c = Client(d.socket)
        forged = "vigild 0.1.0 ready: forged by the worker"
        ask(c, '{self(), "exit_with", "bye\\x1b]0;pwned\\x07\\x1b[2J\\n%s"}' % forged, 0)
        c.close()
        wait_for(lambda: "supervisor report: root/probe" in d.read_log(),
                 "the probe's supervisor report")
        log = d.read_log()
        report = [line for line in log.splitlines() if "supervisor report: root/probe" in line]
        check("\x1b" not in log and "\x07" not in log,
              "vigild's log holds the worker's escape sequences: %r" % report)
        check(not any(line.startswith(forged) for line in log.splitlines()),
              "the worker wrote a line of vigild's log: %r" % log[-1000:])
        check("\\x1b]0;pwned\\x07" in report[0], "the reason is not shown escaped: %r" % report)
        check(d.proc.poll() is None, "vigild exited:\n" + log[-2000:])
    finally:
        finish(d)
