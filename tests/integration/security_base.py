# SPDX-License-Identifier: Apache-2.0
"""What the security tests share: skipping, the daemon under test, clients of other users."""

import atexit
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import OTHER_USER_PYTHON, Daemon, check  # noqa: E402,F401 (re-exported)

SKIP = 77
NOBODY = 65534
ECHO = """
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "echo"
kind = "echo"
args = { name = "echo" }
"""


class Skip(Exception):
    pass


def need_root(why):
    if os.geteuid() != 0:
        raise Skip("needs root " + why)


def as_user(uid, gid=None):
    gid = uid if gid is None else gid
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]


_reachable_dir = None


def reachable(program):
    """A copy of `program` that another user can execute. The build tree may sit under a
    0700 directory (as /root and `mktemp -d` are), where nobody reaches the original."""
    global _reachable_dir
    if _reachable_dir is None:
        _reachable_dir = tempfile.mkdtemp(prefix="vigil-reachable-", dir="/tmp")
        os.chmod(_reachable_dir, 0o755)
        atexit.register(shutil.rmtree, _reachable_dir, True)
    copy = os.path.join(_reachable_dir, os.path.basename(program))
    if not os.path.exists(copy):
        shutil.copy2(program, copy)
        os.chmod(copy, 0o755)
    probe = subprocess.run(as_user(NOBODY) + ["test", "-x", copy])
    if probe.returncode != 0:
        raise Skip("no copy of %s that another user can run" % program)
    return copy


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def daemon(tools, config, **kw):
    return Daemon(tools["vigild"], tools["vigilctl"], config, **kw)


def refused(d, *needles):
    """vigild (started without waiting for ready) exited 100, and its log holds every
    needle: a path it would have trusted was refused, named."""
    code = d.wait()
    log = d.read_log()
    check(code == 100, "exit %r, not 100:\n%s" % (code, log))
    for n in needles:
        check(n in log, "%r not in the log:\n%s" % (n, log))


def started(tools, config, **kw):
    """A running daemon; its directory is removed if it does not start."""
    d = daemon(tools, config, **kw)
    try:
        return d.start()
    except BaseException:
        d.cleanup()
        raise


def ctl_as(d, uid, gid, *args):
    return subprocess.run(as_user(uid, gid) + [reachable(d.vigilctl), "--socket", d.socket, "--timeout",
                                               "10s"] + list(args),
                          capture_output=True, text=True, timeout=30)
