# SPDX-License-Identifier: Apache-2.0
"""Security cases of the paths vigild opens as root besides the control socket's
(docs/security.md): the observer's Unix socket, which it binds and chmods, and --log-file,
which it creates and appends to. Their directories must be ones no other user can change.

Each case_* function takes the tools of security_test.py."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from security_base import ECHO, NOBODY, daemon, mode_of, need_root, refused  # noqa: E402
from vigild_harness import check  # noqa: E402


def start_refused(d, *needles):
    """Starts `d`, which must be refused (security_base.refused), and removes it."""
    try:
        d.start(expect_ready=False)
        refused(d, *needles)
    finally:
        d.cleanup()


def attacker_dir(base):
    """A directory under `base` owned by the attacker (nobody)."""
    mine = os.path.join(base, "attacker-made")
    os.mkdir(mine, 0o755)
    os.chown(mine, NOBODY, NOBODY)
    return mine


def link_in_shared_dir(base, name, target):
    """A symlink to `target`, owned by the attacker, in a directory every user may write:
    returns the link and that directory."""
    shared = os.path.join(base, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)
    link = os.path.join(shared, name)
    os.symlink(target, link)
    os.lchown(link, NOBODY, NOBODY)
    return link, shared


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
        mine = attacker_dir(base)
        start_refused(with_observer(tools, os.path.join(mine, "observer.sock")),
                "refusing the observer's socket directory " + mine, "owned by uid %d" % NOBODY)
        check(os.listdir(mine) == [], "vigild made %r in the attacker's directory"
              % os.listdir(mine))
        # 2. Root's own directory, reached through a symlink the attacker could point anywhere.
        link, shared = link_in_shared_dir(base, "vigil", victim)
        start_refused(with_observer(tools, os.path.join(link, "observer.sock")),
                "refusing the observer's socket directory",
                "the directory %s is writable by every user" % shared)
        check(os.listdir(victim) == [] and mode_of(victim) == 0o700,
              "root's directory was changed: %r, mode %o" % (os.listdir(victim), mode_of(victim)))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def with_log_file(tools, path):
    d = daemon(tools, ECHO)
    d.extra_args = ["--log-file", path]
    return d


def case_log_file_dir_hijack(tools):
    """As root, `--log-file` is refused (exit 100, naming it) when it is a symlink, when its
    directory is another user's, or when that directory is reached through a symlink in a
    directory every user may write; vigild then creates and appends to nothing there (it
    once opened the file wherever the directories led, so their owner could have root create
    and append to a file of that name in any directory). A log file directly in a sticky
    directory such as /tmp is still used."""
    need_root("(the attacker is another user)")
    base = tempfile.mkdtemp(prefix="vigil-sec-logfile-")
    os.chmod(base, 0o755)
    try:
        victim = os.path.join(base, "victim")
        os.mkdir(victim, 0o700)
        target = os.path.join(victim, "target")
        with open(target, "w") as f:
            f.write("root's\n")
        # 1. The log file is a symlink (to root's file).
        link = os.path.join(base, "link.log")
        os.symlink(target, link)
        start_refused(with_log_file(tools, link), "unable to open the log " + link, "symlink")
        # 2. A directory the attacker owns.
        mine = attacker_dir(base)
        start_refused(with_log_file(tools, os.path.join(mine, "vigild.log")),
                "unable to open the log " + os.path.join(mine, "vigild.log"),
                "owned by uid %d" % NOBODY)
        check(os.listdir(mine) == [], "vigild made %r in the attacker's directory"
              % os.listdir(mine))
        # 3. Root's own directory, through a symlink in a directory every user may write.
        dirlink, shared = link_in_shared_dir(base, "logs", victim)
        start_refused(with_log_file(tools, os.path.join(dirlink, "target")),
                "unable to open the log", "the directory %s is writable by every user" % shared)
        with open(target) as f:
            check(f.read() == "root's\n", "root's file was appended to")
        check(sorted(os.listdir(victim)) == ["target"], "vigild made %r in root's directory"
              % os.listdir(victim))
        # 4. Directly in /tmp, sticky: root's own file there cannot be swapped.
        in_tmp = os.path.join("/tmp", "vigil-sec-logfile-%d.log" % os.getpid())
        d = with_log_file(tools, in_tmp)
        try:
            d.start()
            check(d.ctl_json("status")["workers"][0]["state"] == "running", "not running")
            with open(in_tmp) as f:
                check("ready" in f.read(), "the log in /tmp is not written")
        finally:
            d.cleanup()
            if os.path.lexists(in_tmp):
                os.unlink(in_tmp)
    finally:
        shutil.rmtree(base, ignore_errors=True)
