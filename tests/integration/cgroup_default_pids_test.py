#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The default pids limit of OS children (daemon.default_pids, docs/os-workers.md "Limits"),
so that a fork bomb in one child cannot take the host's pids, and with them vigild's restarts
of the others: a child without limits gets pids.max = 15 % of the least of kernel.pid_max,
kernel.threads-max and the pids.max of the cgroups above the children (rounded down: 150
under a cgroup of pids.max 1000, as a systemd unit's TasksMax= would be); under
default_pids = 32 a child forking until fork fails is held at 32 tasks while vigild restarts
a killed sibling; a child's own limits.pids wins, higher or lower, and "infinity" leaves
pids.max at max; a bad value is a config error at its file:line:col; without cgroups the
default is skipped quietly, a configured one with one warning.

Usage: cgroup_default_pids_test.py VIGILD VIGILCTL VIGIL_WORKER CASE
Exit status: 0 passed, 1 failed, 77 skipped (not root, no cgroup2 hierarchy, or no pids
controller reachable here: the reason is printed).
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgroup_test import Skip, alive, cgroup2_mount, gone, run_daemon_case  # noqa: E402
from cgroup_limits_test import fork_bomb, py, row, wait_for_bomb  # noqa: E402
from vigild_harness import check, wait_for  # noqa: E402

APPLIED = "an OS child without limits.pids gets pids.max"
NOT_APPLIED = "daemon.default_pids is not applied"
# The bomb's own bound, whatever vigild does: the test cannot hurt the machine.
BOMB_CAP = 300


def config(children, daemon=""):
    return """
[daemon]
%s

[supervisor]
strategy = "one_for_one"
intensity = 100
period = "5s"
%s""" % (daemon, children)


def child(cid, command, extra=""):
    return """
[[supervisor.children]]
id = "%s"
command = %s
shutdown = "5s"
%s
""" % (cid, command, extra)


def read_number(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def v2_has_pids(mount):
    try:
        with open(os.path.join(mount, "cgroup.subtree_control")) as f:
            return "pids" in f.read().split()
    except (OSError, TypeError):
        return False


def own_v1_pids_dir(mount):
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "pids" in controllers.split(","):
                return mount + (path if path != "/" else "")
    return None


def expected_default(percent=15):
    """The documented reckoning, done here apart from vigild's: percent of the least of
    kernel.pid_max, kernel.threads-max and the pids.max of the children's parent cgroup and
    those above it. vigild started by hand makes its v2 base under the mount's root; on a
    hybrid host its v1 base is under its own pids cgroup, which is this process's."""
    limits = [read_number("/proc/sys/kernel/pid_max"),
              read_number("/proc/sys/kernel/threads-max")]
    mount = cgroup2_mount()
    if v2_has_pids(mount):
        dirs = [mount]
    else:
        v1 = v1_pids_mount()
        here = own_v1_pids_dir(v1)
        dirs = []
        while here and len(here) >= len(v1):
            dirs.append(here)
            here = os.path.dirname(here)
    limits += [read_number(os.path.join(d, "pids.max")) for d in dirs]
    ceiling = min(n for n in limits if n)
    return max(1, ceiling * percent // 100)


def v1_pids_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields = left.split()
            kind = right.split()
            if kind and kind[0] == "cgroup" and "pids" in kind[2].split(","):
                return fields[4]
    return None


def pids_max(info):
    """pids.max of the cgroup holding the child's tasks: its v2 cgroup where v2 has the pids
    controller, else its v1 pids cgroup (a hybrid host), "max" at a hierarchy's root."""
    v2 = os.path.join(info["cgroup"], "pids.max")
    if os.path.exists(v2):
        with open(v2) as f:
            return f.read().strip()
    mount = v1_pids_mount()
    if mount is None:
        raise Skip("no pids controller in cgroup v2 or v1 here")
    with open("/proc/%d/cgroup" % info["os_pid"]) as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "pids" in controllers.split(","):
                try:
                    with open(os.path.join(mount + path, "pids.max")) as m:
                        return m.read().strip()
                except FileNotFoundError:
                    return "max"  # the root has no pids.max: nothing limits it
    return "max"


def running(d, cid, other_than=None):
    def up():
        r = row(d, cid)
        ok = r and r.get("os_pid") and r["state"] == "running" and r["os_pid"] != other_than
        return r if ok else None
    return wait_for(up, "%s to run" % cid, timeout=30)


def info(d, cid):
    return d.ctl_json("info", cid)["info"]


def pids_unreachable():
    """Why no pids controller can hold a child's limit here, or None: told apart from vigild,
    so that a vigild that does not apply the default fails rather than skips."""
    mount = cgroup2_mount()
    if v2_has_pids(mount):
        return None  # vigild's vigil-<pid> base gets what the root enables
    v1 = v1_pids_mount()
    if v1 is None:
        return "cgroup v2 does not enable pids under %s and no v1 pids hierarchy is mounted" % mount
    probe = os.path.join(v1, "vigiltest-probe-%d" % os.getpid())
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as e:
        return "cannot make a v1 pids cgroup under %s: %s" % (v1, e)
    return None


def skip_unless_applied(d):
    why = pids_unreachable()
    if why:
        raise Skip(why)
    check(APPLIED in d.read_log(), "vigild applies the default:\n" + d.read_log())


def case_default(d):
    d.write_config(config(child("plain", '["sleep", "1000"]')))
    d.start()
    running(d, "plain")
    skip_unless_applied(d)
    want = expected_default()
    got = pids_max(info(d, "plain"))
    check(got == str(want), "pids.max of a child without limits: %s, expected %d (15%% of "
          "the host's)" % (got, want))
    check("pids.max = %d (daemon.default_pids = 15%% of " % want in d.read_log(),
          "vigild's log names the default:\n" + d.read_log())


def case_bomb(d):
    limit = 32
    done = os.path.join(d.dir, "forked")
    bomb = fork_bomb(done, BOMB_CAP)
    d.write_config(config(child("bomb", bomb) + child("sibling", '["sleep", "1000"]'),
                          "default_pids = %d" % limit))
    d.start()
    sibling = running(d, "sibling")
    running(d, "bomb")
    skip_unless_applied(d)

    n = wait_for_bomb(d, "bomb", done, limit)
    check(n + 1 <= limit, "%d forks succeeded under default_pids = %d (it stops at %d)"
          % (n, limit, BOMB_CAP))
    check(n >= 1, "the bomb could not fork at all")
    bomb = info(d, "bomb")
    check(pids_max(bomb) == str(limit), "the bomb's pids.max: %s" % pids_max(bomb))
    check(bomb["cgroup_procs"] == n + 1, "cgroup_procs %r, forks %d" % (bomb["cgroup_procs"], n))

    # With the bomb at its limit, a sibling that crashes is still restarted: vigild forks.
    os.kill(sibling["os_pid"], 9)
    again = running(d, "sibling", other_than=sibling["os_pid"])
    check(again["restarts"] >= 1, "the sibling's restart is counted: %r" % again)
    check(alive(again["os_pid"]), "the restarted sibling runs")
    check(d.proc.poll() is None, "vigild stays up")

    pids = [int(p) for p in open(os.path.join(bomb["cgroup"], "cgroup.procs")).read().split()]
    check(len(pids) == n + 1, "the bomb's cgroup holds %d processes, forks %d" % (len(pids), n))
    d.ctl("stop", "bomb")
    for p in pids:
        gone(p)


def case_ceiling(d):
    # A systemd unit's TasksMax= (or a container's limit) above the children: the default is
    # a share of it, not of the host's pid_max, or one bomb would still take the whole unit
    # and vigild with it. The unit is a cgroup of the test's own with pids.max = 1000.
    ceiling = 1000
    mount = cgroup2_mount()
    if v2_has_pids(mount):
        unit = os.path.join(mount, "vigiltest-unit-%d" % os.getpid())
        os.mkdir(unit)
        try:
            with open(os.path.join(unit, "cgroup.subtree_control"), "w") as f:
                f.write("+pids")
            with open(os.path.join(unit, "pids.max"), "w") as f:
                f.write(str(ceiling))
            d.write_config(config(child("plain", '["sleep", "1000"]'),
                                  'cgroup = "%s/base"' % unit))
            ceiling_case(d, ceiling)
        finally:
            d.stop()
            remove_tree(unit)
        return
    why = pids_unreachable()
    if why:
        raise Skip(why)
    # A hybrid host: vigild's v1 base is made in its own v1 pids cgroup, which it inherits
    # from this process; this process goes into the unit while vigild starts, then back.
    v1 = v1_pids_mount()
    home = own_v1_pids_dir(v1)
    unit = os.path.join(home, "vigiltest-unit-%d" % os.getpid())
    os.mkdir(unit)
    try:
        with open(os.path.join(unit, "pids.max"), "w") as f:
            f.write(str(ceiling))
        with open(os.path.join(unit, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        try:
            d.write_config(config(child("plain", '["sleep", "1000"]')))
            d.start()
        finally:
            with open(os.path.join(home, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        ceiling_case(d, ceiling)
    finally:
        d.stop()
        remove_tree(unit)


def remove_tree(cgroup):
    """Removes an emptied cgroup and those below it (a configured base and its vigild/ leaf
    stay after vigild's exit), bottom-up."""
    for top, dirs, _ in os.walk(cgroup, topdown=False):
        for name in dirs:
            os.rmdir(os.path.join(top, name))
    os.rmdir(cgroup)


def ceiling_case(d, ceiling):
    if d.proc is None:
        d.start()
    running(d, "plain")
    skip_unless_applied(d)
    want = ceiling * 15 // 100
    got = pids_max(info(d, "plain"))
    check(got == str(want), "pids.max under a unit of %d tasks: %s, expected %d"
          % (ceiling, got, want))
    check("(daemon.default_pids = 15%% of %d)" % ceiling in d.read_log(),
          "vigild's log names the ceiling:\n" + d.read_log())


def case_override(d):
    default = expected_default()
    high = default + 1000
    d.write_config(config(child("low", '["sleep", "1000"]', "limits = { pids = 10 }")
                          + child("high", '["sleep", "1000"]', "limits = { pids = %d }" % high)
                          + child("free", '["sleep", "1000"]', 'limits = { pids = "infinity" }')
                          + child("plain", '["sleep", "1000"]')))
    d.start()
    for cid in ("low", "high", "free", "plain"):
        running(d, cid)
    skip_unless_applied(d)
    got = {cid: pids_max(info(d, cid)) for cid in ("low", "high", "free", "plain")}
    check(got == {"low": "10", "high": str(high), "free": "max", "plain": str(default)},
          "pids.max by child: %r" % got)
    check("runs without some of its limits" not in d.read_log(),
          "no limit was refused:\n" + d.read_log())


def case_off(d):
    # The default is skipped quietly where there are no cgroups; the child runs.
    d.write_config(config(child("plain", '["sleep", "1000"]'), 'cgroup = "off"'))
    d.start()
    running(d, "plain")
    check(NOT_APPLIED not in d.read_log(), "the default is skipped quietly:\n" + d.read_log())
    d.stop()
    # One the user set is said once.
    d.write_config(config(child("plain", '["sleep", "1000"]'),
                          'cgroup = "off"\ndefault_pids = 64'))
    d.start()
    running(d, "plain")
    log = d.read_log()
    check(log.count(NOT_APPLIED) == 1, "a configured default not applied is said once:\n" + log)
    check("runs without some of its limits" not in log, "no per-child warning:\n" + log)


def case_config(d):
    for text, got in (("-1", "-1"), ('"150%"', '"150%"'), ('"lots"', '"lots"'),
                      ("1.5", "1.5")):
        d.write_config('[daemon]\nlog_level = "info"\ndefault_pids = %s\n' % text)
        r = subprocess.run([d.vigild, "--check-config", "--config", d.config],
                           capture_output=True, text=True, timeout=30)
        out = r.stdout + r.stderr
        check(r.returncode != 0, "default_pids = %s was accepted:\n%s" % (text, out))
        want = ("vigil.toml:3:16: daemon.default_pids: expected a number of tasks from 1, a "
                "percentage of the host's from 1% to 100% such as \"15%\", or \"infinity\", "
                "got " + got)
        check(want in out, "default_pids = %s: %s" % (text, out))
    d.write_config(config(child("c", '["true"]', 'limits = { pids = "none" }')))
    r = subprocess.run([d.vigild, "--check-config", "--config", d.config],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "limits.pids: expected a number of processes and threads "
          "from 1, or \"infinity\", got \"none\"" in r.stdout + r.stderr,
          "limits.pids = \"none\": %s" % (r.stdout + r.stderr))


CASES = {"default": case_default, "ceiling": case_ceiling, "bomb": case_bomb,
         "override": case_override, "off": case_off, "config": case_config}


def main(argv):
    return run_daemon_case(argv, CASES, "cgroup_default_pids_", __doc__,
                           needs_cgroups=lambda name: name not in ("off", "config"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
