# SPDX-License-Identifier: Apache-2.0
"""Security cases of the observer's Unix socket path (docs/security.md, "The observer"):
vigild, as root, binds and chmods that socket, so its directory must be one no other user
can change, as the control socket's must.

Each case_* function takes the tools of security_test.py."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_base import ECHO, NOBODY, daemon, mode_of, need_root  # noqa: E402
from vigild_harness import check  # noqa: E402


def refused(d, *needles):
    """vigild exited 100 and its log holds every needle."""
    code = d.wait()
    log = d.read_log()
    check(code == 100, "exit %r, not 100:\n%s" % (code, log))
    for n in needles:
        check(n in log, "%r not in the log:\n%s" % (n, log))


def with_observer(tools, path):
    d = daemon(tools, ECHO)
    d.write_config('[observer]\nlisten = "%s"\n' % path + ECHO)
    return d


def case_observer_socket_dir_hijack(tools):
    """vigild refuses an observer socket in a directory another user owns, or reached through
    a symlink in a directory every user may write, naming it; it binds and chmods nothing
    there (it once bound the socket wherever the path led and chmod-ed it 0666 by path, so
    the directory's owner could swap in a symlink and have root chmod any file)."""
    need_root("(the attacker is another user)")
    base = tempfile.mkdtemp(prefix="vigil-sec-observer-")
    os.chmod(base, 0o755)
    try:
        victim = os.path.join(base, "victim")
        os.mkdir(victim, 0o700)
        # 1. A directory the attacker owns.
        mine = os.path.join(base, "attacker-made")
        os.mkdir(mine, 0o755)
        os.chown(mine, NOBODY, NOBODY)
        d = with_observer(tools, os.path.join(mine, "observer.sock"))
        try:
            d.start(expect_ready=False)
            refused(d, "refusing the observer's socket directory " + mine,
                    "owned by uid %d" % NOBODY)
        finally:
            d.cleanup()
        check(os.listdir(mine) == [], "vigild made %r in the attacker's directory"
              % os.listdir(mine))
        # 2. Root's own directory, reached through a symlink the attacker could point anywhere.
        shared = os.path.join(base, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        link = os.path.join(shared, "vigil")
        os.symlink(victim, link)
        os.lchown(link, NOBODY, NOBODY)
        d = with_observer(tools, os.path.join(link, "observer.sock"))
        try:
            d.start(expect_ready=False)
            refused(d, "refusing the observer's socket directory",
                    "the directory %s is writable by every user" % shared)
        finally:
            d.cleanup()
        check(os.listdir(victim) == [] and mode_of(victim) == 0o700,
              "root's directory was changed: %r, mode %o" % (os.listdir(victim), mode_of(victim)))
    finally:
        shutil.rmtree(base, ignore_errors=True)
