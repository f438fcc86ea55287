# SPDX-License-Identifier: Apache-2.0
"""What the security tests share: skipping, the daemon under test, clients of other users."""

import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Daemon  # noqa: E402

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


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def daemon(tools, config, **kw):
    return Daemon(tools["vigild"], tools["vigilctl"], config, **kw)


def started(tools, config, **kw):
    """A running daemon; its directory is removed if it does not start."""
    d = daemon(tools, config, **kw)
    try:
        return d.start()
    except BaseException:
        d.cleanup()
        raise


def ctl_as(d, uid, gid, *args):
    return subprocess.run(as_user(uid, gid) + [d.vigilctl, "--socket", d.socket, "--timeout",
                                               "10s"] + list(args),
                          capture_output=True, text=True, timeout=30)
