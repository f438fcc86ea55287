#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""vigild under a real systemd: boots Debian in systemd-nspawn (tests/system/nspawn.py over
the root of scripts/nspawn-root), installs the build into it with `cmake --install`, and
checks systemd/vigild.service end to end:

  ready      the unit is `activating` until vigild sends READY=1 (a child whose start blocks
             until the test lets it go holds it back), then `active`, with vigild's STATUS= text
  journal    a worker's output is in the journal, tagged with the worker's name and path
  restart    a worker killed with SIGKILL is restarted
  allowed    a user of `allowed_users` (nobody) runs `vigilctl status` through the unit's
             RuntimeDirectory (0755) and the 0666 socket; an unlisted user is refused
  reload     `systemctl reload` applies a config change; a bad config fails the reload and
             leaves the service running
  stop       `systemctl stop` ends every child, in reverse start order, by vigild itself
             (systemd has nothing left to SIGKILL), and the unit ends `inactive`, result success
  watchdog   a vigild whose schedulers hang, then one whose event loop hangs, is caught by
             WatchdogSec= and restarted
  sigkill    SIGKILL of vigild leaves none of its children's descendants alive: a child that
             daemonized a grandchild (setsid) loses it too (issue #15: the cgroups)

Usage: nspawn_test.py BUILD_DIR SOURCE_DIR
Exit 77 (skipped) when it cannot run here: not root, or systemd-nspawn/debootstrap missing.
"""

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nspawn import Container, Failure, check, wait_for  # noqa: E402

SKIP = 77
LIB_DIR = "/usr/lib/vigil-test"
# The drop-in every case runs under: the libraries of the (sanitized) build, and a short
# watchdog so that the hang cases take seconds.
TEST_DROPIN = """[Service]
Environment=LD_LIBRARY_PATH=%s
Environment=ASAN_OPTIONS=abort_on_error=0:disable_coredump=1
WatchdogSec=3s
""" % LIB_DIR

CHILD = ("trap 'echo {id} >> /var/tmp/vigil-stopped; exit 0' TERM; echo hello from {id}; "
         "while :; do sleep 0.1; done")


# The slow child of the first start blocks until this file exists (it creates GATE.started
# when it begins); case_ready opens the gate.
GATE = "/var/tmp/vigil-slow-gate"


def config(extra_children="", gated=True):
    """vigil.toml with the slow child, web, db and `extra_children`. The slow child waits at
    GATE in its start, or, not `gated`, starts at once."""
    slow_args = ('{ gate = "%s" }' % GATE) if gated else "{}"
    return """
[daemon]
log_level = "info"
allowed_users = ["nobody"]
plugins = ["%s/libvigil_slow_start_plugin.so"]

[supervisor]
strategy = "one_for_one"
intensity = 10
period = "10s"

[[supervisor.children]]
id = "slow"
kind = "slow_start"
args = %s

[[supervisor.children]]
id = "web"
command = ["/bin/sh", "-c", "%s"]
shutdown = "5s"

[[supervisor.children]]
id = "db"
command = ["/bin/sh", "-c", "%s"]
shutdown = "5s"
%s""" % (LIB_DIR, slow_args, CHILD.format(id="web"), CHILD.format(id="db"), extra_children)


CACHE_CHILD = """
[[supervisor.children]]
id = "cache"
command = ["/bin/sh", "-c", "%s"]
""" % CHILD.format(id="cache")

GLIBC = ("linux-vdso", "ld-linux", "libc.so", "libm.so", "libpthread.so", "libdl.so",
         "librt.so", "libresolv.so")


class Timer:
    def __init__(self):
        self.marks = []
        self.t0 = time.monotonic()
        self.last = self.t0

    def mark(self, what):
        now = time.monotonic()
        self.marks.append((what, now - self.last))
        print("  %-10s %5.1fs" % (what, now - self.last), flush=True)
        self.last = now

    def total(self):
        return time.monotonic() - self.t0


def stage_install(build_dir, stage):
    """`cmake --install` into `stage` with the prefix /usr, plus the shared libraries the
    build's programs need that a minimal Debian lacks (the sanitizer runtimes, fmt, ...)."""
    env = dict(os.environ, DESTDIR=stage)
    subprocess.run(["cmake", "--install", build_dir, "--prefix", "/usr"], check=True,
                   env=env, capture_output=True)
    lib_dir = stage + LIB_DIR
    os.makedirs(lib_dir, exist_ok=True)
    plugin = os.path.join(build_dir, "tests", "libvigil_slow_start_plugin.so")
    check(os.path.exists(plugin), "missing " + plugin)
    subprocess.run(["cp", plugin, lib_dir], check=True)
    programs = [stage + "/usr/bin/" + p for p in ("vigild", "vigilctl", "vigil-worker")]
    for prog in programs + [plugin]:
        out = subprocess.run(["ldd", prog], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) != 2 or not parts[1].strip().startswith("/"):
                continue
            path = parts[1].split("(")[0].strip()
            if not any(os.path.basename(path).startswith(g) for g in GLIBC):
                subprocess.run(["cp", "-L", path, lib_dir], check=True)


def ctl(c, *args, check_rc=True):
    return c.run(["vigilctl", "--timeout", "20s"] + list(args), check_rc=check_rc,
                 env={"LD_LIBRARY_PATH": LIB_DIR})


def ctl_json(c, *args):
    import json
    return json.loads(ctl(c, "--json", *args).stdout)


def workers(c):
    return {w["path"]: w for w in ctl_json(c, "status")["workers"]}


def show(c, *props):
    r = c.run(["systemctl", "show", "vigild", "-p", ",".join(props)])
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def journal(c, *args):
    return c.run(["journalctl", "--no-pager", "-o", "cat"] + list(args), check_rc=False).stdout


def case_ready(c):
    c.run(["systemctl", "start", "--no-block", "vigild"])
    wait_for(lambda: show(c, "ActiveState")["ActiveState"] == "activating",
             "the unit to be activating", 10)
    # The root supervisor is starting its children, and the slow one stays in its start
    # until the gate opens: all that while the unit must stay `activating`.
    wait_for(lambda: os.path.exists(c.root + GATE + ".started"),
             "the slow child's start to begin", 30)
    seen = show(c, "ActiveState", "StatusText")
    check(seen["ActiveState"] == "activating",
          "active before the root supervisor had started its children: %r" % seen)
    check(seen["StatusText"].startswith("starting"), "status while starting: %r" % seen)
    c.write(GATE, "")
    wait_for(lambda: show(c, "ActiveState")["ActiveState"] == "active", "the unit to be active",
             30)
    ws = workers(c)
    check(set(ws) == {"root/slow", "root/web", "root/db"}, "workers: %r" % ws)
    check(all(w["state"] == "running" for w in ws.values()), "not all running: %r" % ws)
    status = show(c, "StatusText")["StatusText"]
    check(status.startswith("running"), "status text: %r" % status)
    print("    status: " + status)


def case_journal(c):
    def tagged():
        return "hello from web" in journal(c, "-u", "vigild", "-t", "web")
    wait_for(tagged, "web's output in the journal under its name", 10)

    # journald takes each sender's lines in its own time: web's line there says nothing of
    # db's, nor of vigild's own, so each is waited for.
    def entries(*match):
        return c.run(["journalctl", "--no-pager", "-u", "vigild", "-o", "verbose"]
                     + list(match), check_rc=False).stdout

    out = wait_for(lambda: (lambda o: o if "MESSAGE=hello from db" in o else None)(
        entries("SYSLOG_IDENTIFIER=db")), "db's output in the journal under its name", 10)
    check("VIGIL_STREAM=stdout" in out and "PRIORITY=6" in out, "db's line:\n" + out[-2000:])
    # vigild's own lines carry priorities: the ready line is info (6).
    wait_for(lambda: " ready: " in entries("-t", "vigild", "-p", "info"),
             "vigild's own ready line in the journal at priority info", 10)


def as_user(c, uid, *args):
    return c.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups",
                  "vigilctl", "--timeout", "20s"] + list(args), check_rc=False,
                 env={"LD_LIBRARY_PATH": LIB_DIR})


def case_allowed(c):
    run_dir = c.run(["stat", "-c", "%a %U", "/run/vigil"]).stdout.split()
    check(run_dir == ["755", "root"], "RuntimeDirectory: %r" % run_dir)
    # Without --socket: a user's vigilctl falls back to /run/vigil/control.sock.
    r = as_user(c, 65534, "--json", "status")
    check(r.returncode == 0 and "root/web" in r.stdout,
          "an allowed user cannot use the socket: exit %d\n%s%s"
          % (r.returncode, r.stdout, r.stderr))
    r = as_user(c, 65533, "status")
    check(r.returncode == 3 and "may not use this socket" in r.stderr,
          "an unlisted user: exit %d %s" % (r.returncode, r.stderr))


def os_pid_of(c, ident):
    """The pid (in the container) of the shell that runs worker `ident`."""
    for line in c.run(["ps", "-eo", "pid=,args="]).stdout.splitlines():
        pid, _, args = line.strip().partition(" ")
        if "hello from %s;" % ident in args and args.startswith("/bin/sh"):
            return int(pid)
    return None


def case_restart(c):
    before = workers(c)["root/web"]
    os_pid = os_pid_of(c, "web")
    check(os_pid is not None, "web's process not found")
    c.run(["kill", "-KILL", str(os_pid)])

    def restarted():
        w = workers(c)["root/web"]
        new_pid = os_pid_of(c, "web")
        # The restart count follows the new pid a moment later (the event hub records it).
        return w if (w["pid"] != before["pid"] and w["state"] == "running"
                     and w["restarts"] == before["restarts"] + 1
                     and new_pid not in (None, os_pid)) else None
    wait_for(restarted, "web to be restarted, with its restart counted", 15)
    check(show(c, "ActiveState")["ActiveState"] == "active", "the unit is no longer active")


def case_reload(c):
    c.write("/etc/vigil/vigil.toml", config(CACHE_CHILD, gated=False))
    c.run(["systemctl", "reload", "vigild"])
    ws = workers(c)
    check("root/cache" in ws and ws["root/cache"]["state"] == "running",
          "reload did not start cache: %r" % ws)
    check(show(c, "ActiveState")["ActiveState"] == "active", "not active after reload")
    c.write("/etc/vigil/vigil.toml", "[supervisor]\nstrategy = \"sometimes\"\n")
    r = c.run(["systemctl", "reload", "vigild"], check_rc=False)
    check(r.returncode != 0, "a reload of an invalid config succeeded")
    check(show(c, "ActiveState")["ActiveState"] == "active", "a bad reload stopped the unit")
    check("root/cache" in workers(c), "a bad reload changed the tree")
    c.write("/etc/vigil/vigil.toml", config(CACHE_CHILD, gated=False))


def leftover_children(c):
    r = c.run(["ps", "-eo", "args="])
    return [line for line in r.stdout.splitlines() if "vigil-stopped" in line]


def case_stop(c):
    c.remove("/var/tmp/vigil-stopped")
    check(leftover_children(c), "no children before the stop")
    c.run(["systemctl", "stop", "vigild"])
    props = show(c, "ActiveState", "Result", "ExecMainStatus")
    check(props["ActiveState"] == "inactive" and props["Result"] == "success",
          "after stop: %r" % props)
    check(props["ExecMainStatus"] == "0", "vigild exited %s" % props["ExecMainStatus"])
    check(not leftover_children(c), "children left: %r" % leftover_children(c))
    with open(c.root + "/var/tmp/vigil-stopped") as f:
        order = f.read().split()
    check(order == ["cache", "db", "web"], "stop order %r, expected cache, db, web" % order)
    killed = [line for line in journal(c, "-u", "vigild").splitlines()
              if "Killing process" in line]
    check(not killed, "systemd had to kill what vigild left:\n" + "\n".join(killed))


def case_watchdog(c, mode):
    restarts = int(show(c, "NRestarts")["NRestarts"])
    c.write("/etc/systemd/system/vigild.service.d/hang.conf",
            "[Service]\nEnvironment=VIGIL_TEST_HANG=%s VIGIL_TEST_HANG_AFTER_MS=1000\n" % mode)
    c.run(["systemctl", "daemon-reload"])
    cursor = c.run(["journalctl", "--no-pager", "-n", "0", "--show-cursor"]).stdout
    cursor = cursor.strip().rsplit("cursor: ", 1)[-1]
    c.run(["systemctl", "restart", "vigild"])
    started = time.monotonic()
    wait_for(lambda: "Watchdog timeout" in journal(c, "--after-cursor", cursor, "-u", "vigild"),
             "systemd's watchdog to fire (%s hang)" % mode, 20)
    caught = time.monotonic() - started
    wait_for(lambda: int(show(c, "NRestarts")["NRestarts"]) > restarts,
             "systemd to restart vigild", 20)
    log = journal(c, "--after-cursor", cursor, "-u", "vigild")
    check("VIGIL_TEST_HANG=%s" % mode in log, "the hang was not simulated:\n" + log[-2000:])
    c.remove("/etc/systemd/system/vigild.service.d/hang.conf")
    c.run(["systemctl", "daemon-reload"])
    c.run(["systemctl", "restart", "vigild"])
    check(show(c, "ActiveState")["ActiveState"] == "active", "not active after the hang")
    print("    %s hang caught %.1fs after the start (hang at 1s, WatchdogSec=3s)" % (mode, caught))


ESCAPEE_CHILD = """
[[supervisor.children]]
id = "escaper"
command = ["/bin/sh", "-c", "(setsid sleep 4242 &); exec sleep 4243"]
"""


def sleeps(c, seconds):
    """Pids (in the container) of `sleep SECONDS`."""
    out = c.run(["ps", "-eo", "pid=,args="]).stdout.splitlines()
    return [int(line.split()[0]) for line in out if line.split()[1:] == ["sleep", str(seconds)]]


def case_sigkill(c):
    c.write("/etc/vigil/vigil.toml", config(CACHE_CHILD + ESCAPEE_CHILD, gated=False))
    c.run(["systemctl", "reload", "vigild"])
    wait_for(lambda: sleeps(c, 4242) and sleeps(c, 4243), "the daemonized grandchild", 15)
    grandchild = sleeps(c, 4242)
    main_pid = show(c, "MainPID")["MainPID"]
    c.run(["systemctl", "kill", "--kill-whom=main", "--signal=KILL", "vigild"])
    wait_for(lambda: show(c, "MainPID")["MainPID"] not in ("0", main_pid)
             and show(c, "ActiveState")["ActiveState"] == "active",
             "systemd to restart the killed vigild", 30)
    left = [p for p in grandchild if p in sleeps(c, 4242)]
    check(not left, "the grandchild %r outlived the SIGKILLed vigild" % left)
    c.write("/etc/vigil/vigil.toml", config(CACHE_CHILD, gated=False))
    c.run(["systemctl", "reload", "vigild"])


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    build_dir, source = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("SKIP: needs root (systemd-nspawn, debootstrap)")
        return SKIP
    for tool in ("systemd-nspawn", "debootstrap", "nsenter"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            print("SKIP: %s is not installed (scripts/setup installs it)" % tool)
            return SKIP
    timer = Timer()
    root = subprocess.run([os.path.join(source, "scripts", "nspawn-root")], check=True,
                          capture_output=True, text=True).stdout.strip()
    timer.mark("root")
    work = tempfile.mkdtemp(prefix="vigil-nspawn-")
    stage = os.path.join(work, "stage")
    stage_install(build_dir, stage)
    os.makedirs(stage + "/etc/systemd/system/vigild.service.d", exist_ok=True)
    with open(stage + "/etc/systemd/system/vigild.service.d/test.conf", "w") as f:
        f.write(TEST_DROPIN)
    with open(stage + "/etc/vigil/vigil.toml", "w") as f:
        f.write(config())
    timer.mark("install")
    c = Container(root, os.path.join(work, "console.log"))
    failed = None
    try:
        c.boot()
        timer.mark("boot")
        c.copy_in(stage)
        c.run(["systemctl", "daemon-reload"])
        c.run(["systemd-analyze", "verify", "vigild.service"])
        for name, case in (("ready", case_ready), ("allowed", case_allowed),
                           ("journal", case_journal),
                           ("restart", case_restart), ("reload", case_reload),
                           ("stop", case_stop),
                           ("watchdog", lambda c: case_watchdog(c, "schedulers")),
                           ("watchdog2", lambda c: case_watchdog(c, "loop")),
                           ("sigkill", case_sigkill)):
            case(c)
            timer.mark(name)
        c.run(["systemctl", "stop", "vigild"])
    except Exception as e:  # noqa: BLE001 (any failure still tears the container down)
        failed = e
        if c.init_pid:
            print("---- journal of vigild.service ----")
            print(journal(c, "-u", "vigild", "-o", "short-monotonic")[-6000:])
    finally:
        if c.init_pid:
            # A vigild left hanging by a failed case would hold the poweroff up.
            c.run(["systemctl", "kill", "--signal=KILL", "vigild"], check_rc=False, timeout=10)
        c.shutdown()
        timer.mark("teardown")
        subprocess.run(["rm", "-rf", work])
    print("systemd system test: %.1fs in all" % timer.total())
    if failed:
        print("FAIL: %s" % failed)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
