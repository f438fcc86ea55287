#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of vigild's observer listener, Prometheus metrics and event hooks
(docs/observer.md): the real daemon, scraped over its real socket, driven by the real vigilctl.

Usage: observer_test.py VIGILD VIGILCTL CASE
Cases: metrics, attacks, tcp, hooks, actions, process_page.
"""

import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import (OTHER_USER_PYTHON, TICKING_LOGGER, Client, Daemon, Failure,  # noqa: E402
                            check, wait_for)

NOBODY = 65534

TREE = """
[daemon]
first_request_timeout = "1s"

[observer]
listen = "{listen}"
mailbox_threshold = 5
{token}

[[supervisor.children]]
id = "echo"
kind = "echo"

[[supervisor.children]]
id = "backlog"
kind = "echo"
args = {{ delay = "10m" }}

[[supervisor.children]]
id = "sleeper"
command = ["sleep", "1000"]

[[supervisor.children]]
id = "jobs"
type = "supervisor"

  [[supervisor.children.children]]
  id = "dispatcher"
  kind = "dispatcher"
"""


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def get(conn, path, method="GET", headers=None, body=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read().decode()


def scrape(sock_path):
    conn = UnixHTTPConnection(sock_path)
    try:
        status, text = get(conn, "/metrics")
    finally:
        conn.close()
    check(status == 200, "GET /metrics answered %d: %s" % (status, text))
    return text


def samples(text):
    """{'name{labels}': value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def sample(text, name, path):
    for key, value in samples(text).items():
        if key.startswith(name + "{") and 'path="%s"' % path in key:
            return value
    return None


def promtool_check(text):
    promtool = shutil.which("promtool")
    check(promtool is not None, "no promtool: scripts/setup installs the prometheus package")
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0, "promtool check metrics:\n%s%s" % (r.stdout, r.stderr))


def wait_event(follower, kind, path):
    """Reads the followed events until `kind` for `path`."""
    while True:
        event = follower.read_line()
        check(event is not None, "the event stream ended before %s of %s" % (kind, path))
        if event.get("event") == kind and event.get("path") == path:
            return event


def follow(d):
    follower = Client(d.socket, timeout=30)
    follower.call("events", {"follow": True, "last": 0})
    return follower


def observer_daemon(vigild, vigilctl, token=""):
    d = Daemon(vigild, vigilctl, "", dir_mode=0o711)
    d.observer = os.path.join(d.dir, "observer.sock")
    d.write_config(TREE.format(listen=d.observer,
                               token='token = "%s"' % token if token else ""))
    return d


def families(text):
    """The family names an exposition declares with # TYPE."""
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def check_runtime_metrics(d, before):
    """The daemon's runtime families are there, and a child that stops taking its messages
    shows up with its mailbox's length once it is over [observer] mailbox_threshold."""
    for name in ("vigil_scheduler_run_queue_length", "vigil_shared_run_queue_length",
                 "vigil_reductions_total", "vigil_process_mailbox_length",
                 "vigil_processes_over_mailbox_threshold"):
        check(name in families(before), "no %s family in /metrics" % name)
    check('vigil_scheduler_run_queue_length{scheduler="0"}' in samples(before),
          "no run-queue length for scheduler 0:\n" + before)
    check(sample(before, "vigil_process_mailbox_length", "root/backlog") is None,
          "a mailbox under the threshold is listed:\n" + before)
    # backlog answers its first ping only after 10 minutes: the other nine wait in its mailbox.
    for _ in range(10):
        d.ctl("send", "backlog", "{self(), :ping}")
    full = wait_for(lambda: (lambda t: t if sample(t, "vigil_process_mailbox_length",
                                                   "root/backlog") == 9 else None)(
        scrape(d.observer)), "root/backlog's 9 waiting messages in /metrics")
    promtool_check(full)
    check(samples(full)["vigil_processes_over_mailbox_threshold"] >= 1,
          "the process over the threshold is not counted")
    check(samples(full)["vigil_reductions_total"] > samples(before)["vigil_reductions_total"],
          "vigil_reductions_total did not grow while processes ran")


def case_metrics(vigild, vigilctl):
    """A real scrape passes promtool; restarts_total, the last exit reason and the
    supervisor's restarts in its window move when a child is killed and restarted; the
    runtime's run queues, reductions and a long mailbox are there."""
    d = observer_daemon(vigild, vigilctl)
    try:
        d.start()
        wait_for(lambda: sample(scrape(d.observer), "vigil_child_resident_memory_bytes",
                                "root/sleeper"), "the command child's RSS in /metrics")
        before = scrape(d.observer)
        promtool_check(before)
        check(sample(before, "vigil_child_up", "root/jobs/dispatcher") == 1,
              "a nested child is not up:\n" + before)
        check(sample(before, "vigil_child_restarts_total", "root/sleeper") == 0,
              "restarts before any kill:\n" + before)
        check(sample(before, "vigil_child_cpu_seconds_total", "root/sleeper") is not None,
              "no CPU seconds for the OS child")
        check(sample(before, "vigil_child_resident_memory_bytes", "root/echo") is None,
              "an in-process child has an RSS of its own")
        check(sample(before, "vigil_supervisor_gave_up_total", "root") == 0, "gave_up of root")
        check_runtime_metrics(d, before)

        follower = follow(d)
        d.ctl("kill", "sleeper")
        wait_event(follower, "process_restarted", "root/sleeper")
        d.ctl("kill", "dispatcher")
        wait_event(follower, "process_restarted", "root/jobs/dispatcher")
        follower.close()
        # The report and the restart reach the observer's own thread after the stream.
        after = wait_for(lambda: (lambda t: t if sample(t, "vigil_supervisor_restarts_in_window",
                                                        "root/jobs") == 1 else None)(
            scrape(d.observer)), "the nested supervisor's restart in /metrics")
        promtool_check(after)
        check(sample(after, "vigil_child_restarts_total", "root/sleeper") == 1,
              "restarts_total of the killed child did not move:\n" + after)
        check(sample(after, "vigil_child_restarts_total", "root/jobs/dispatcher") == 1,
              "restarts_total of the nested child did not move")
        check(sample(after, "vigil_child_restarts_total", "root/echo") == 0,
              "a child nobody killed counts a restart")
        check(any('path="root/sleeper"' in k and 'last_exit_reason=":killed"' in k
                  for k in samples(after) if k.startswith("vigil_child_info{")),
              "no last_exit_reason :killed for the killed child:\n" + after)
        check(sample(after, "vigil_supervisor_restarts_in_window", "root") == 1,
              "root's restarts in its window")
    finally:
        d.cleanup()


def raw(sock_path, data, timeout=10):
    """Sends `data` on a fresh connection; what comes back until the daemon closes it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    try:
        if data:
            s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk
    finally:
        s.close()


def status_line(reply):
    return reply.split(b"\r\n", 1)[0].decode(errors="replace")


def case_attacks(vigild, vigilctl):
    """Oversized headers, garbage, a request that never ends, a wrong method or path and a
    user the control socket does not allow each get their 4xx or are cut off; vigild keeps
    serving and its tree keeps running."""
    d = observer_daemon(vigild, vigilctl)
    try:
        d.start()
        wait_for(lambda: os.path.exists(d.observer), "the observer socket")
        huge = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
        check(status_line(raw(d.observer, huge)).startswith("HTTP/1.1 431"),
              "oversized header not refused with 431")
        check(status_line(raw(d.observer, b"\x00\xff GARBAGE\r\n\r\n")).startswith("HTTP/1.1 400"),
              "garbage not refused with 400")
        body = b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
        check(status_line(raw(d.observer, body)).startswith("HTTP/1.1 413"),
              "an oversized body not refused with 413")
        # Slowloris: half a request line, then nothing; closed at first_request_timeout (1s),
        # long before the client's own 10 s.
        check(raw(d.observer, b"GET /metr") == b"", "a partial request got an answer")
        conn = UnixHTTPConnection(d.observer)
        # A kill without the action header (a form another site's page could forge) is
        # refused; with it, an allowed peer's kill restarts the child.
        check(get(conn, "/api/kill?path=root/echo", method="POST")[0] == 403,
              "a kill without X-Vigil-Action was not refused")
        check(get(conn, "/api/kill?path=root/nowhere", method="POST",
                  headers={"X-Vigil-Action": "1"})[0] == 404, "a kill of no child is not 404")
        follower = follow(d)
        status, body = get(conn, "/api/kill?path=root/echo", method="POST",
                           headers={"X-Vigil-Action": "1"})
        check(status == 200 and "killed" in body, "the kill: %d %s" % (status, body))
        wait_event(follower, "process_restarted", "root/echo")
        follower.close()
        check(get(conn, "/nowhere")[0] == 404, "an unknown path is not 404")
        check(get(conn, "/metrics", method="DELETE")[0] == 405, "DELETE /metrics is not 405")
        conn.close()
        # Many connections at once are served or refused, never stop the daemon.
        socks = []
        for _ in range(300):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.observer)
            socks.append(s)
        for s in socks:
            s.close()
        if os.geteuid() == 0:
            probe = ("import socket; s = socket.socket(socket.AF_UNIX); s.connect(%r); "
                     "s.sendall(b'GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); "
                     "print(s.recv(100).split(b'\\r\\n')[0].decode())" % d.observer)
            r = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                                "--clear-groups", OTHER_USER_PYTHON, "-c", probe],
                               capture_output=True, text=True, timeout=30)
            check(r.stdout.startswith("HTTP/1.1 401"),
                  "nobody was not refused: %r %r" % (r.stdout, r.stderr))
        check(d.proc.poll() is None, "vigild died:\n" + d.read_log())
        text = scrape(d.observer)
        check(sample(text, "vigil_child_up", "root/echo") == 1, "the tree after the attacks")
        rows = d.ctl_json("status")["workers"]
        check(all(r["state"] == "running" for r in rows), "status after the attacks: %r" % rows)
    finally:
        d.cleanup()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def case_tcp(vigild, vigilctl):
    """A TCP listener with a token: a request without it or with a wrong one is 401, with it
    200. A non-loopback address without a token is refused at its place in the file."""
    d = Daemon(vigild, vigilctl, "")
    try:
        bad = TREE.format(listen="tcp://0.0.0.0:9100", token="")
        d.write_config(bad)
        r = subprocess.run([vigild, "--check-config", "--config", d.config],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 100, "a public listener without token: exit %d" % r.returncode)
        line = [l for l in (r.stdout + r.stderr).splitlines() if "observer.listen" in l]
        check(line and line[0].startswith(d.config + ":6:10: observer.listen: expected"),
              "no file:line:col error for the public listener:\n" + r.stdout + r.stderr)

        port = free_port()
        d.write_config(TREE.format(listen="tcp://127.0.0.1:%d" % port, token='token = "s3cret"'))
        d.start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        check(get(conn, "/metrics")[0] == 401, "no token: not 401")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        check(get(conn, "/metrics", headers={"Authorization": "Bearer wrong!"})[0] == 401,
              "a wrong token: not 401")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        status, text = get(conn, "/metrics", headers={"Authorization": "Bearer s3cret"})
        check(status == 200 and "vigil_child_up" in text, "the token: %d" % status)
        promtool_check(text)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        check(get(conn, "/api/kill?path=root/echo", method="POST",
                  headers={"X-Vigil-Action": "1", "Authorization": "Bearer wrong!"})[0] == 401,
              "a kill with a wrong token: not 401")
    finally:
        d.cleanup()


HOOKS = """
[[hook]]
on = ["child_restarted", "child_failed"]
command = ["sh", "-c", "cat > $(mktemp {out}/event.XXXXXX)"]

[[hook]]
on = ["child_failed"]
command = ["sh", "-c", "echo $$ >> {hung}; exec sleep 1000"]
timeout = "300ms"

[[hook]]
on = ["child_restarted"]
command = ["sh", "-c", "exit 3"]

[[hook]]
on = ["child_restarted"]
post = "http://127.0.0.1:{port}/vigil"

[[hook]]
on = ["child_restarted"]
post = "http://127.0.0.1:{dead_port}/nobody-listens"
timeout = "1s"

[[supervisor.children]]
id = "sleeper"
command = ["sleep", "1000"]

[[supervisor.children]]
id = "echo"
kind = "echo"
"""


class Receiver(http.server.BaseHTTPRequestHandler):
    bodies = []
    got = threading.Event()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        Receiver.bodies.append(json.loads(self.rfile.read(n)))
        self.send_response(204)
        self.end_headers()
        Receiver.got.set()

    def log_message(self, *args):
        pass


def hook_lines(path):
    """The events the command hook wrote, one file each: hooks run at once, so lines that
    they appended to one file could interleave. A file still being written is left for the
    next look."""
    events = []
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name)) as f:
            text = f.read()
        try:
            events.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return events


def case_hooks(vigild, vigilctl):
    """A command hook gets the event's JSON on stdin and a POST hook in its body; a hook that
    hangs is killed at its timeout, one that fails and one whose URL is dead are logged, and
    the children restart as they would without any hook."""
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    d = Daemon(vigild, vigilctl, "")
    out = os.path.join(d.dir, "hook.out")
    os.mkdir(out)
    hung = os.path.join(d.dir, "hung.pids")
    d.write_config(HOOKS.format(out=out, hung=hung, port=server.server_address[1],
                                dead_port=free_port()))
    try:
        d.start()
        follower = follow(d)
        for round_ in range(1, 4):
            d.ctl("kill", "sleeper")
            event = wait_event(follower, "process_restarted", "root/sleeper")
            check(event["restarts"] == round_, "restart %d: %r" % (round_, event))
        d.ctl("kill", "echo")
        wait_event(follower, "process_restarted", "root/echo")
        follower.close()

        got = wait_for(lambda: (lambda l: l if len(l) >= 8 else None)(hook_lines(out)),
                       "8 events from the command hook")
        kinds = [(e["hook"], e["path"]) for e in got]
        check(kinds.count(("child_failed", "root/sleeper")) == 3
              and kinds.count(("child_restarted", "root/sleeper")) == 3
              and ("child_restarted", "root/echo") in kinds, "hook events %r" % kinds)
        check(all(e["v"] == 1 and "ts" in e for e in got), "hook event JSON %r" % got)
        check(Receiver.got.wait(10), "the POST hook never arrived")
        wait_for(lambda: len(Receiver.bodies) >= 4, "4 POSTs")
        check(all(b["hook"] == "child_restarted" for b in Receiver.bodies),
              "POST bodies %r" % Receiver.bodies)
        wait_for(lambda: "killed after its timeout of 300 ms" in d.read_log(),
                 "the hanging hook's timeout in the log")
        wait_for(lambda: "exited with status 3" in d.read_log(), "the failing hook in the log")
        wait_for(lambda: "nobody-listens" in d.read_log(), "the dead URL in the log")
        # The hanging hooks are gone, their process groups with them.
        for pid in open(hung).read().split():
            wait_for(lambda: not os.path.exists("/proc/%s" % pid)
                     or open("/proc/%s/stat" % pid).read().split(")")[-1].split()[0] == "Z",
                     "hanging hook %s to be killed" % pid)
        rows = {r["path"]: r for r in d.ctl_json("status")["workers"]}
        check(rows["root/sleeper"]["state"] == "running" and rows["root/sleeper"]["restarts"] == 3,
              "the child after its hooks: %r" % rows["root/sleeper"])
        check(d.proc.poll() is None, "vigild died")
    finally:
        server.shutdown()
        d.cleanup()


ACTIONS = ("restart", "stop", "start")


def status_of(d, path):
    return {r["path"]: r for r in d.ctl_json("status")["workers"]}[path]


def as_nobody(sock_path, request):
    """The first line of the observer's answer to `request`, sent as the user nobody."""
    probe = ("import socket; s = socket.socket(socket.AF_UNIX); s.connect(%r); "
             "s.sendall(%r); print(s.recv(100).split(b'\\r\\n')[0].decode())"
             % (sock_path, request))
    r = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                        "--clear-groups", OTHER_USER_PYTHON, "-c", probe],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.strip() + r.stderr.strip()


def case_actions(vigild, vigilctl):
    """The restart, stop and start actions are vigilctl's: each changes the tree as the
    command does. Each is refused without X-Vigil-Action (a forged cross-site form), as a GET,
    and to a user the control socket does not allow; a read-only TCP listener refuses them,
    and shows no process's messages or logs."""
    d = observer_daemon(vigild, vigilctl)
    try:
        d.start()
        wait_for(lambda: os.path.exists(d.observer), "the observer socket")
        conn = UnixHTTPConnection(d.observer)
        act = {"X-Vigil-Action": "1"}
        before = status_of(d, "root/sleeper")
        for action in ACTIONS:
            url = "/api/%s?path=root/sleeper" % action
            status, body = get(conn, url, method="POST")
            check(status == 403 and "X-Vigil-Action" in body,
                  "%s without X-Vigil-Action: %d %s" % (action, status, body))
            check(get(conn, url)[0] == 405, "GET %s is not 405" % url)
            if os.geteuid() == 0:
                line = as_nobody(d.observer, ("POST %s HTTP/1.1\r\nHost: x\r\n"
                                              "X-Vigil-Action: 1\r\nContent-Length: 0\r\n\r\n"
                                              % url).encode())
                check(line.startswith("HTTP/1.1 401"), "nobody's %s was not refused: %r"
                      % (action, line))
        after = status_of(d, "root/sleeper")
        check(after["pid"] == before["pid"] and after["state"] == "running",
              "a refused action changed the child: %r -> %r" % (before, after))
        check(get(conn, "/api/restart?path=root/nowhere", method="POST", headers=act)[0] == 404,
              "a restart of no child is not 404")
        # A path is the client's: a %0A in it must not forge a line of vigild's log.
        check(get(conn, "/api/restart?path=root/nowhere%0Aforged-by-a-client", method="POST",
                  headers=act)[0] in (400, 404), "a restart of a path with a newline is not refused")
        wait_for(lambda: "root/nowhere\\nforged-by-a-client" in d.read_log(),
                 "the escaped path in vigild's log")
        check(not any(l.startswith("forged-by-a-client") for l in d.read_log().splitlines()),
              "a client's %0A started a line of vigild's log")

        status, body = get(conn, "/api/restart?path=root/sleeper", method="POST", headers=act)
        check(status == 200 and json.loads(body)["pid"].startswith("#PID<"),
              "restart: %d %s" % (status, body))
        restarted = status_of(d, "root/sleeper")
        check(restarted["pid"] == json.loads(body)["pid"] and restarted["pid"] != before["pid"],
              "restart did not replace the child: %r" % restarted)

        status, body = get(conn, "/api/stop?path=root/sleeper", method="POST", headers=act)
        check(status == 200, "stop: %d %s" % (status, body))
        stopped = status_of(d, "root/sleeper")
        check(stopped["state"] != "running" and not stopped.get("pid"),
              "stop left the child running: %r" % stopped)

        status, body = get(conn, "/api/start?path=root/sleeper", method="POST", headers=act)
        check(status == 200, "start: %d %s" % (status, body))
        started = status_of(d, "root/sleeper")
        check(started["state"] == "running" and started["pid"] == json.loads(body)["pid"],
              "start did not run the child: %r" % started)
        conn.close()
        check(d.proc.poll() is None, "vigild died:\n" + d.read_log())
    finally:
        d.cleanup()

    # TCP without a token serves reads only: every action is refused, whatever its header.
    d = Daemon(vigild, vigilctl, "")
    try:
        port = free_port()
        d.write_config(TREE.format(listen="tcp://127.0.0.1:%d" % port, token=""))
        d.start()
        before = status_of(d, "root/sleeper")
        for action in ACTIONS:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            status, body = get(conn, "/api/%s?path=root/sleeper" % action, method="POST",
                               headers={"X-Vigil-Action": "1"})
            check(status == 403, "%s on a read-only listener: %d %s" % (action, status, body))
            conn.close()
        check(status_of(d, "root/sleeper")["pid"] == before["pid"],
              "a read-only listener's action changed the child")
        # Nor does it show a process's messages or logs (vigilctl info and logs need the
        # control socket's rules).
        for url in ("/api/info?path=root/echo", "/api/logs?path=root/sleeper"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            status, body = get(conn, url)
            check(status == 403, "%s on a read-only listener: %d %s" % (url, status, body))
            conn.close()
    finally:
        d.cleanup()



def case_process_page(vigild, vigilctl):
    """/api/info and /api/logs, what the process page shows: Process.info of an in-process
    child (status, message queue, links, memory, reductions), an OS child's os_pid and RSS,
    its restart history with the reason, and the tail of its log."""
    d = observer_daemon(vigild, vigilctl)
    try:
        d.write_config(TREE.format(listen=d.observer, token="") + TICKING_LOGGER)
        d.start()
        wait_for(lambda: os.path.exists(d.observer), "the observer socket")
        conn = UnixHTTPConnection(d.observer)
        status, body = get(conn, "/api/info?path=root/echo")
        check(status == 200, "info of root/echo: %d %s" % (status, body))
        info = json.loads(body)["info"]
        for key in ("status", "message_queue_len", "links", "monitors", "memory", "reductions"):
            check(key in info, "info of root/echo lacks %s: %r" % (key, info))
        check(any(p.startswith("#PID<") for p in info["links"]),
              "root/echo is linked to no one (its supervisor): %r" % info["links"])

        d.ctl("kill", "logger")

        def logger_info():
            status, body = get(conn, "/api/info?path=root/logger")
            if status == 404 and "is not alive" in body:
                return {}  # the index still names the killed process: its restart is not in yet
            check(status == 200, "info of root/logger: %d %s" % (status, body))
            return json.loads(body)["info"]
        # Its restart is counted before its new process runs: wait for the one that runs.
        info = wait_for(lambda: (lambda i: i if i.get("os_pid", 0) > 0 and i.get("exits") else None)(
            logger_info()), "root/logger running again, with its exits")
        check("rss_kb" in info, "no RSS in the OS child's info: %r" % info)
        check(any(e.get("reason") == ":killed" for e in info["exits"]),
              "no :killed in the restart history: %r" % info["exits"])

        def tail():
            s, b = get(conn, "/api/logs?path=root/logger&lines=5")
            check(s == 200, "logs: %d %s" % (s, b))
            return json.loads(b)["lines"]
        wait_for(lambda: any(l["line"].startswith("tick-") for l in tail()), "log lines")
        check(len(tail()) <= 5, "more lines than asked for")
        check(get(conn, "/api/info?path=root/nowhere")[0] == 404, "info of no child is not 404")
        check(get(conn, "/api/logs")[0] == 400, "logs without a path is not 400")
        check(get(conn, "/api/info?path=root/echo", method="POST")[0] == 405,
              "POST /api/info is not 405")
        conn.close()
    finally:
        d.cleanup()


CASES = {"metrics": case_metrics, "attacks": case_attacks, "tcp": case_tcp, "hooks": case_hooks,
         "actions": case_actions, "process_page": case_process_page}


def main(argv):
    if len(argv) != 4 or argv[3] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    vigild, vigilctl, case = argv[1:]
    try:
        CASES[case](vigild, vigilctl)
    except Failure as e:
        print("FAIL: observer %s: %s" % (case, e), file=sys.stderr)
        return 1
    print("ok: observer " + case)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
