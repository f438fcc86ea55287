#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The container image of packaging/container/Containerfile, built and run by podman (with
runc): the Debian package from this build tree on a base imported from the debootstrapped
root that the nspawn tests cache (scripts/nspawn-root; no registry is needed), with the
demo tree of packaging/container/vigil.toml.

- vigild is the container's PID 1 and `podman exec ... vigilctl status` shows every child
  running;
- an orphan that a child leaves behind (a double-forked `sleep 1`) is reparented to vigild
  and reaped: it vanishes, no zombie remains;
- `podman stop` makes vigild stop every child within its shutdown time (each one's exit,
  followed by `vigilctl events -f` on the host through the bind-mounted socket, is
  :shutdown) and exit 0 by itself (podman's
  SIGKILL after its --time would give 137); none of the container's processes is left on the
  host;
- a second container ended with `podman kill` leaves nothing running: the container is
  exited and its processes are gone from the host's /proc.

A sanitized build's runtimes (libasan, ...) are bind-mounted in and named by LD_LIBRARY_PATH,
as tests/system/package_nspawn_test.py does for its root. podman runs with `--runtime runc`
and explicit ulimits (crun and podman's default rlimits fail on some hosts:
docs/containers.md). Images and containers get names with this process's pid and are removed
at the end, pass or fail.

Usage: container_test.py BUILD_DIR SOURCE_DIR VERSION
Exit 77 (skipped) when it cannot run here: not root, or a tool is missing.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nspawn import Failure, check, descendants, wait_for  # noqa: E402
from package_nspawn_test import LIB_DIR, build_package, stage  # noqa: E402

SKIP = 77
PODMAN = ["podman", "--runtime", "runc"]
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
ENV = ["-e", "LD_LIBRARY_PATH=" + LIB_DIR,
       "-e", "ASAN_OPTIONS=abort_on_error=0:disable_coredump=1"]
CHILDREN = {"ticker", "forker", "idle"}


def podman(*args, check_rc=True, timeout=300, **kw):
    r = subprocess.run(PODMAN + list(args), capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check_rc and r.returncode != 0:
        raise Failure("podman %s exited %d\n%s%s"
                      % (" ".join(args), r.returncode, r.stdout, r.stderr[-3000:]))
    return r


def start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class Image:
    def __init__(self, build_dir, source, version, work):
        self.base = "localhost/vigil-test-base-%d" % os.getpid()
        self.name = "localhost/vigil-test-%d" % os.getpid()
        self.build_dir, self.source, self.version, self.work = build_dir, source, version, work
        self.libs = None

    def build(self, root):
        deb = build_package(self.build_dir, self.version, os.path.join(self.work, "out"))
        self.libs = stage(deb, self.work) + LIB_DIR
        ctx = os.path.join(self.work, "context")
        os.makedirs(ctx)
        shutil.copy(deb, os.path.join(ctx, "vigil.deb"))
        for f in ("Containerfile", "vigil.toml"):
            shutil.copy(os.path.join(self.source, "packaging", "container", f), ctx)
        # The cached root as a base image: its files, without the mount points' contents.
        tar = subprocess.Popen(["tar", "-C", root, "--numeric-owner", "--exclude=./proc/*",
                                "--exclude=./sys/*", "--exclude=./dev/*",
                                "--exclude=./.vigil-root-version", "-cf", "-", "."],
                               stdout=subprocess.PIPE)
        podman("import", "-", self.base, stdin=tar.stdout)
        tar.stdout.close()
        check(tar.wait() == 0, "tar of %s failed" % root)
        podman("build", "--network", "none", *ULIMITS, "--build-arg", "BASE=" + self.base,
               "--build-arg", "OFFLINE=1", "-t", self.name, ctx, timeout=600)

    def remove(self):
        podman("rmi", "-f", self.name, self.base, check_rc=False, timeout=120)


class Box:
    """One container of the image, run detached."""

    def __init__(self, image, suffix):
        self.image = image
        self.name = "vigil-test-%d-%s" % (os.getpid(), suffix)

    def run(self):
        # The container's /run/vigil (its control socket) is a host directory, so that a
        # vigilctl on the host can follow the events to the end: one inside the container
        # would be a stray that vigild ends before it exits.
        self.run_dir = tempfile.mkdtemp(prefix=self.name + "-run-", dir=self.image.work)
        podman("run", "-d", "--name", self.name, "--network", "none", *ULIMITS, *ENV,
               "-v", "%s:%s:ro" % (self.image.libs, LIB_DIR),
               "-v", "%s:/run/vigil" % self.run_dir, self.image.name)
        return self

    def exec(self, *argv, check_rc=True):
        return podman("exec", self.name, *argv, check_rc=check_rc, timeout=60)

    def inspect(self, fmt):
        return podman("inspect", "--format", fmt, self.name, timeout=60).stdout.strip()

    def state(self):
        return self.inspect("{{.State.Status}}")

    def logs(self):
        r = podman("logs", self.name, check_rc=False, timeout=60)
        return (r.stdout + r.stderr)[-4000:]

    def workers(self):
        r = self.exec("vigilctl", "--timeout", "20s", "--json", "status", check_rc=False)
        if r.returncode != 0:
            check(self.state() == "running", "the container ended:\n" + self.logs())
            return None
        rows = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        return {w["id"]: w for w in rows[0]["workers"]}

    def wait_tree_running(self):
        def all_running():
            ws = self.workers()
            if ws is None:
                return None
            running = {i for i, w in ws.items() if w.get("state") == "running" and w.get("os_pid")}
            return ws if CHILDREN <= running else None

        return wait_for(all_running, "every child of %s running" % self.name, timeout=120,
                        every=0.2)

    def processes(self):
        """pid -> (ppid, state, args) inside the container."""
        out = self.exec("ps", "-eo", "pid=,ppid=,stat=,args=").stdout
        procs = {}
        for line in out.splitlines():
            f = line.split(None, 3)
            if len(f) == 4:
                procs[int(f[0])] = (int(f[1]), f[2], f[3])
        return procs

    def host_processes(self):
        """The container's processes as the host sees them: pid -> start time."""
        main = int(self.inspect("{{.State.Pid}}"))
        check(main > 0, "%s has no process" % self.name)
        return {p: start_time(p) for p in [main] + descendants(main)}

    def remove(self):
        podman("rm", "-f", "-t", "0", self.name, check_rc=False, timeout=120)


def gone_from_host(procs):
    return all(start_time(p) != t for p, t in procs.items())


def case_supervise_reap_stop(image):
    box = Box(image, "stop").run()
    try:
        ws = box.wait_tree_running()
        print("tree running: " + ", ".join("%s=%s" % (i, ws[i]["os_pid"]) for i in sorted(CHILDREN)))
        comm = box.exec("cat", "/proc/1/comm").stdout.strip()
        check(comm == "vigild", "PID 1 of the container is %r, not vigild" % comm)
        status = box.exec("vigilctl", "--timeout", "20s", "status").stdout
        print(status)

        # forker's subshell exits at once, leaving `sleep 1` to PID 1.
        def an_orphan():
            return next((p for p, (ppid, _, args) in box.processes().items()
                         if ppid == 1 and args == "sleep 1"), None)

        orphan = wait_for(an_orphan, "an orphaned `sleep 1` reparented to vigild", timeout=60)
        wait_for(lambda: orphan not in box.processes(), "orphan %d to be reaped" % orphan,
                 timeout=60)
        print("orphan %d was reparented to PID 1 and reaped" % orphan)
        wait_for(lambda: not any("Z" in st for _, st, _ in box.processes().values()),
                 "no zombie in the container", timeout=60)

        host = box.host_processes()
        check(len(host) >= 4, "expected vigild and its children on the host: %r" % host)
        # The events of the stop, followed from the host: how each child ended.
        vigilctl = os.path.join(image.work, "unpacked", "usr", "bin", "vigilctl")
        events = subprocess.Popen([vigilctl, "--socket", box.run_dir + "/control.sock",
                                   "--json", "events", "-f"], stdout=subprocess.PIPE, text=True)
        first = events.stdout.readline()  # the stream is open once its first line is out
        # A hang guard: vigild needs at most the children's shutdown times plus 2 s.
        podman("stop", "--time", "120", box.name, timeout=300)
        try:
            streamed = first + events.communicate(timeout=120)[0]
        except subprocess.TimeoutExpired:
            events.kill()
            raise Failure("vigilctl events -f did not end with the container")
        exits = {}
        for line in streamed.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            for ev in e.get("events", [e]):
                if ev.get("event") == "process_exited":
                    exits[ev["path"].rsplit("/", 1)[-1]] = ev.get("reason", "")
        print("exits during the stop: %r" % exits)
        check(CHILDREN <= set(exits), "not every child's exit was reported: %r" % exits)
        # :shutdown is a child that stopped when asked; one killed after its shutdown time
        # would report :killed.
        late = {c: r for c, r in exits.items() if r != ":shutdown"}
        check(not late, "children that did not stop within their shutdown time: %r" % late)
        check(box.state() == "exited", "after podman stop: state %s" % box.state())
        code = box.inspect("{{.State.ExitCode}}")
        logs = box.logs()
        check(code == "0", "vigild exited %s after podman stop (137: podman had to SIGKILL)\n%s"
              % (code, logs))
        wait_for(lambda: gone_from_host(host), "the container's processes to leave the host",
                 timeout=60)
        print("podman stop: vigild exited 0, %d processes gone from the host" % len(host))
    except Exception:
        print("---- podman logs %s ----\n%s" % (box.name, box.logs()))
        raise
    finally:
        box.remove()


def case_kill(image):
    box = Box(image, "kill").run()
    try:
        box.wait_tree_running()
        host = box.host_processes()
        podman("kill", box.name, timeout=120)
        wait_for(lambda: box.state() == "exited", "the killed container to exit", timeout=120,
                 every=0.2)
        wait_for(lambda: gone_from_host(host), "the killed container's processes to leave the "
                 "host", timeout=60)
        ps = podman("ps", "-a", "--filter", "name=^%s$" % box.name, "--format",
                    "{{.Names}} {{.State}}").stdout.strip()
        check(ps.startswith(box.name + " Exited"), "podman ps -a after kill: %r" % ps)
        running = podman("ps", "--filter", "name=^%s$" % box.name, "--quiet").stdout.strip()
        check(running == "", "podman ps still lists %s as running" % box.name)
        print("podman kill: %s; %d processes gone from the host" % (ps, len(host)))
    finally:
        box.remove()


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    build_dir, source, version = sys.argv[1:4]
    if os.geteuid() != 0:
        print("SKIP: needs root (rootful podman, debootstrap)")
        return SKIP
    for tool in ("podman", "runc", "cpack", "dpkg-deb", "tar"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed (scripts/setup installs it)" % tool)
            return SKIP
    nspawn_root = os.path.join(source, "scripts", "nspawn-root")
    if subprocess.run([nspawn_root, "--check"], capture_output=True).returncode != 0:
        for tool in ("debootstrap", "systemd-nspawn"):
            if not shutil.which(tool):
                print("SKIP: no cached Debian root and %s is not installed" % tool)
                return SKIP
    root = subprocess.run([nspawn_root], check=True, capture_output=True,
                          text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="vigil-container-")
    image = Image(build_dir, source, version, work)
    failed = None
    try:
        image.build(root)
        case_supervise_reap_stop(image)
        case_kill(image)
    except Exception as e:  # noqa: BLE001 (any failure still removes containers and images)
        failed = e
    finally:
        image.remove()
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print("FAIL: %s" % failed)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
