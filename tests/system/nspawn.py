# SPDX-License-Identifier: Apache-2.0
"""A real systemd in a container for the system tests: systemd-nspawn boots the Debian root
of scripts/nspawn-root (on a throw-away overlay, so the cached root never changes), and the
test drives it with `nsenter -t <its init> -a`. Teardown kills the nspawn process by its pid,
never by name."""

import os
import shutil
import signal
import subprocess
import time


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def wait_for(pred, what, timeout=20.0, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise Failure("timed out after %.0fs waiting for %s" % (timeout, what))


def parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def descendants(root):
    by_parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            ppid = parent_of(int(name))
            if ppid is not None:
                by_parent.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def ns_pid_one(pid):
    """Whether `pid` is PID 1 of a PID namespace below ours (NSpid: <host pid> 1)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("NSpid:"):
                    fields = line.split()[1:]
                    return len(fields) >= 2 and fields[-1] == "1"
    except OSError:
        pass
    return False


class Container:
    """A booted container. `run` executes a command inside it and returns the
    CompletedProcess; `root` is its file system seen from the host."""

    def __init__(self, root_dir, log_path):
        self.root_dir = root_dir
        self.log_path = log_path
        self.proc = None
        self.init_pid = None

    def boot(self, timeout=60.0):
        self.log = open(self.log_path, "w")
        env = dict(os.environ)
        env["SYSTEMD_NSPAWN_TMPFS_TMP"] = "1"
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "--quiet",
             "--directory=" + self.root_dir, "--volatile=overlay", "--console=pipe",
             "--boot"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env)

        def find_init():
            check(self.proc.poll() is None,
                  "systemd-nspawn exited (%s):\n%s" % (self.proc.returncode, self.read_log()))
            for pid in descendants(self.proc.pid):
                if ns_pid_one(pid):
                    return pid
            return None

        self.init_pid = wait_for(find_init, "the container's init", timeout)

        def booted():
            r = self.run(["systemctl", "is-system-running"], check_rc=False)
            return r.stdout.strip() in ("running", "degraded")

        wait_for(booted, "the container to boot", timeout, every=0.1)
        return self

    @property
    def root(self):
        return "/proc/%d/root" % self.init_pid

    def run(self, argv, check_rc=True, env=None, timeout=60, input=None):
        full_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LANG": "C.UTF-8", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}
        full_env.update(env or {})
        r = subprocess.run(["nsenter", "-t", str(self.init_pid), "-a", "--"] + list(argv),
                           capture_output=True, text=True, env=full_env, timeout=timeout,
                           input=input)
        if check_rc and r.returncode != 0:
            raise Failure("in the container, %s exited %d\nstdout:\n%s\nstderr:\n%s"
                          % (" ".join(argv), r.returncode, r.stdout, r.stderr))
        return r

    def copy_in(self, host_dir):
        """Copies the tree under `host_dir` over the container's root."""
        subprocess.run(["cp", "-a", "--no-preserve=ownership", host_dir + "/.", self.root + "/"],
                       check=True)

    def write(self, path, text, mode=0o644):
        host_path = self.root + path
        os.makedirs(os.path.dirname(host_path), exist_ok=True)
        with open(host_path, "w") as f:
            f.write(text)
        os.chmod(host_path, mode)

    def remove(self, path):
        host_path = self.root + path
        if os.path.isdir(host_path):
            shutil.rmtree(host_path)
        elif os.path.exists(host_path):
            os.remove(host_path)

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def shutdown(self, timeout=20.0):
        """Powers the container off (SIGTERM to nspawn), then SIGKILLs nspawn if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        finally:
            self.log.close()
