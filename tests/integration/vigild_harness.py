# SPDX-License-Identifier: Apache-2.0
"""Black-box helpers for vigild's integration tests: a daemon in a temporary directory, the
real vigilctl, and a raw protocol client for what vigilctl never sends."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


# The python another user runs: the system's, since the one running the tests may live where
# nobody can read it (a pyenv under /root).
OTHER_USER_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


# What vigild logs once its tree has started (docs/vigild.md): "vigild 0.1.0 ready: 5
# processes; control socket /run/vigil/control.sock".
READY_LINE = re.compile(r"\bvigild \S+ ready: \d+ processes")


class Failure(Exception):
    pass


# A config child that prints a line every 0.2 s for as long as it runs: a live log tail for
# the observer's process page. The sleep is the program's pace, not a wait of a test's own:
# the tests wait for the lines to appear, however late they come.
TICKING_LOGGER = """
[[supervisor.children]]
id = "logger"
command = ["sh", "-c", "echo logger-started; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done"]
"""


def check(cond, what):
    if not cond:
        raise Failure(what)


def wait_for(pred, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.02)
    raise Failure("timed out waiting for " + what)


class Daemon:
    """vigild --foreground on a config in a fresh directory, with its socket there."""

    def __init__(self, vigild, vigilctl, config_text, extra_args=(), dir_mode=0o700):
        self.vigild = vigild
        self.vigilctl = vigilctl
        self.dir = tempfile.mkdtemp(prefix="vigild-test-")
        os.chmod(self.dir, dir_mode)
        self.config = os.path.join(self.dir, "vigil.toml")
        self.socket = os.path.join(self.dir, "run", "control.sock")
        self.log = os.path.join(self.dir, "vigild.log")
        self.write_config(config_text)
        self.extra_args = list(extra_args)
        self.proc = None

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)
        os.chmod(self.config, 0o644)

    def start(self, expect_ready=True, extra_env=None):
        env = dict(os.environ)
        for name in ("JOURNAL_STREAM", "INVOCATION_ID", "NOTIFY_SOCKET"):
            env.pop(name, None)
        env.update(extra_env or {})
        self.logfile = open(self.log, "w")
        self.proc = subprocess.Popen(
            [self.vigild, "--foreground", "--config", self.config, "--socket", self.socket]
            + self.extra_args,
            stdout=self.logfile, stderr=subprocess.STDOUT, env=env)
        if expect_ready:
            # vigild's own line, not any with "ready" in it: a child's boot report
            # ({:not_ready, ...}) comes before the tree has started.
            wait_for(lambda: READY_LINE.search(self.read_log()) or self.proc.poll() is not None,
                     "vigild to start")
            check(self.proc.poll() is None, "vigild exited at start:\n" + self.read_log())
        return self

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def ctl(self, *args, expect=0, stdin=None):
        r = subprocess.run([self.vigilctl, "--socket", self.socket, "--timeout", "20s"]
                           + list(args), input=stdin, capture_output=True, text=True,
                           timeout=30)
        if expect is not None and r.returncode != expect:
            raise Failure("vigilctl %s exited %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                          % (" ".join(args), r.returncode, expect, r.stdout, r.stderr))
        return r

    def ctl_json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout.splitlines()[0])

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=15):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure("vigild did not exit:\n" + self.read_log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        log = self.read_log() if os.path.exists(self.log) else ""
        shutil.rmtree(self.dir, ignore_errors=True)
        # A sanitizer report in a run that otherwise passed still fails the test.
        for marker in ("ThreadSanitizer", "AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if marker in log:
                raise Failure("sanitizer report in vigild's log:\n" + log)


class Client:
    """A raw protocol connection: lines of JSON."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""
        self.next_id = 1

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_line(self):
        """The next line as JSON, or None at end of stream."""
        while b"\n" not in self.buffer:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def call(self, cmd, args=None, **extra):
        req = {"v": 1, "id": self.next_id, "cmd": cmd}
        self.next_id += 1
        if args is not None:
            req["args"] = args
        req.update(extra)
        self.send_raw((json.dumps(req) + "\n").encode())
        while True:
            reply = self.read_line()
            check(reply is not None, "connection closed while waiting for a reply to " + cmd)
            if "event" not in reply:
                return reply

    def closed(self):
        """True once the daemon closed the connection."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def expect_error(reply, code):
    check(reply.get("ok") is False, "expected an error, got %r" % reply)
    check(reply["error"]["code"] == code,
          "expected %s, got %s: %s" % (code, reply["error"]["code"], reply["error"]["message"]))


def run_script(name, argv, run, doc):
    """The main of a test script that takes VIGILD VIGILCTL VIGIL_WORKER and runs
    run(vigild, vigilctl) with vigil-worker found through VIGIL_WORKER_PROGRAM: 0 when it
    passes, 1 on a Failure, 2 on bad usage; run may return another code (77: skipped)."""
    if len(argv) != 4:
        print(doc, file=sys.stderr)
        return 2
    vigild, vigilctl, worker = argv[1:]
    os.environ["VIGIL_WORKER_PROGRAM"] = worker
    try:
        code = run(vigild, vigilctl)
    except Failure as e:
        print("FAIL: %s: %s" % (name, e), file=sys.stderr)
        return 1
    if code:
        return code
    print("ok: " + name)
    return 0


def run_case(argv, cases, doc):
    """The main of a script of cases that each take VIGILD VIGILCTL VIGIL_WORKER: argv is
    those three and the case's name. 0 when it passes, 1 on a Failure, 2 on bad usage; a case
    may return another code (77: skipped)."""
    if len(argv) != 5 or argv[4] not in cases:
        print(doc + "cases: " + ", ".join(cases), file=sys.stderr)
        return 2
    try:
        code = cases[argv[4]](*argv[1:4])
    except Failure as e:
        print("FAIL:", e, file=sys.stderr)
        return 1
    if code:
        return code
    print("ok")
    return 0
