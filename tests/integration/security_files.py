# SPDX-License-Identifier: Apache-2.0
"""Security cases about files: a config or plugin that others may write, and the shared-memory
segments of OS-process workers (docs/ipc.md, "Segments"). Run through security_test.py."""

import os
import shutil
import stat
import subprocess
import tempfile

from security_base import ECHO, NOBODY, Skip, daemon, need_root, reachable, started
from vigild_harness import check, wait_for

def case_world_writable(tools):
    """As root, vigild refuses a config file or a plugin that others can write, with a clear
    message, at start and at reload."""
    need_root("(the checks apply to vigild running as root)")
    d = daemon(tools, ECHO)
    try:
        os.chmod(d.config, 0o666)
        d.start(expect_ready=False)
        check(d.wait() == 100, "world-writable config: exit code")
        check("refusing to load as root: the file %s is writable by every user (mode 0666)"
              % os.path.realpath(d.config) in d.read_log(),
              "config refusal message:\n" + d.read_log())
        r = subprocess.run([tools["vigild"], "--check-config", "--config", d.config],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 100 and "is writable by every user" in r.stderr, "--check-config")
    finally:
        d.cleanup()

    plugin = os.path.join(tempdir(), "libgreeter.so")
    shutil.copy(tools["plugin"], plugin)
    config = '[daemon]\nplugins = ["%s"]\n' % plugin + ECHO
    try:
        for mode, owner in ((0o666, 0), (0o664, 0), (0o644, NOBODY)):
            os.chmod(plugin, mode)
            os.chown(plugin, owner, 0)
            d = daemon(tools, config)
            try:
                d.start(expect_ready=False)
                check(d.wait() == 100, "plugin %o uid %d: exit code" % (mode, owner))
                why = ("owned by uid %d" % owner if owner else
                       "writable by every user" if mode & 0o002 else "writable by its group")
                check("plugin %s: refusing to load as root: the file %s is %s"
                      % (plugin, os.path.realpath(plugin), why) in d.read_log(),
                      "plugin refusal message:\n" + d.read_log())
            finally:
                d.cleanup()
        os.chmod(plugin, 0o644)
        os.chown(plugin, 0, 0)
        d = started(tools, config)
        try:
            check("loaded plugin " + plugin in d.read_log(), "a safe plugin did not load")
            # A reload of a file that became world-writable changes nothing.
            os.chmod(d.config, 0o666)
            r = d.ctl("reload", expect=1)
            check("is writable by every user" in r.stderr, "reload refusal: " + r.stderr)
            check(d.ctl_json("status")["workers"][0]["state"] == "running", "tree changed")
        finally:
            d.cleanup()
    finally:
        shutil.rmtree(os.path.dirname(plugin), ignore_errors=True)


def tempdir():
    path = tempfile.mkdtemp(prefix="vigild-sec-")
    os.chmod(path, 0o755)
    return path


def fd_targets(pid):
    out = {}
    base = "/proc/%d/fd" % pid
    for fd in os.listdir(base):
        try:
            out[int(fd)] = os.readlink(os.path.join(base, fd))
        except OSError:
            pass
    return out


def shm_names_of(pid):
    prefix = "vigil-%d-" % pid
    return [n for n in os.listdir("/dev/shm") if n.startswith(prefix)]


PROCESS_WORKERS = """
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "isolated"
kind = "echo"
mode = "process"
"""

AS_NOBODY_WORKER = """
[[supervisor.children]]
id = "nobody"
kind = "echo"
mode = "process"
user = "%d"
""" % NOBODY


def case_segments(tools):
    """A process-mode worker's channel is an anonymous memfd of mode 0600 owned by vigild's
    user, held by the child at fd 3 and by nothing else; no name is left in /dev/shm; the
    child holds no other descriptor of the daemon's; a worker running as another user still
    talks through it."""
    if not os.path.isdir("/dev/shm"):
        raise Skip("no /dev/shm")
    config = PROCESS_WORKERS
    if os.geteuid() == 0:
        # The worker runs as nobody, who must reach the vigil-worker program.
        config += AS_NOBODY_WORKER
        os.environ["VIGIL_WORKER_PROGRAM"] = reachable(os.environ["VIGIL_WORKER_PROGRAM"])
    d = started(tools, config, dir_mode=0o755)
    try:
        rows = {r["id"]: r for r in d.ctl_json("status")["workers"]}
        daemon_fds = fd_targets(d.proc.pid)
        for wid, row in rows.items():
            child = row["os_pid"]
            check(isinstance(child, int) and child > 0, "%s has no os_pid: %r" % (wid, row))
            out = d.ctl("send", wid, "{self(), :ping}", "--await", "5s").stdout
            check("{:ok, :pong}" in out, "%s does not answer: %s" % (wid, out))
            fds = fd_targets(child)
            memfds = [fd for fd, t in fds.items() if t.startswith("/memfd:")]
            check(memfds == [3], "%s: memfds at %r (fds %r)" % (wid, memfds, fds))
            st = os.stat("/proc/%d/fd/3" % child)
            check(stat.S_IMODE(st.st_mode) == 0o600, "%s: segment mode %o"
                  % (wid, stat.S_IMODE(st.st_mode)))
            check(st.st_uid == os.geteuid(), "%s: segment owned by uid %d" % (wid, st.st_uid))
            # Nothing of the daemon's reaches the child: no socket, no file it opened.
            # (Anonymous inodes all read alike: the worker's own pidfd of vigild is one.)
            daemon_files = {t for t in daemon_fds.values()
                            if t.startswith("/") and not t.startswith(("/dev/", "/memfd:"))}
            leaked = {fd: t for fd, t in fds.items()
                      if fd > 3 and (t in daemon_files or t.startswith("socket:"))}
            check(not leaked, "%s: descriptors of the daemon leaked: %r" % (wid, leaked))
        if "nobody" in rows:
            with open("/proc/%d/status" % rows["nobody"]["os_pid"]) as f:
                uid_line = next(line for line in f if line.startswith("Uid:"))
            check(uid_line.split()[1:] == [str(NOBODY)] * 4, "worker uids: " + uid_line)
        # The daemon closed its copy of each child's descriptor once the child attached; what
        # it still holds are spare segments made ahead for the next starts, 0600 as well.
        child_segments = {os.stat("/proc/%d/fd/3" % r["os_pid"]).st_ino for r in rows.values()}
        for fd, t in fd_targets(d.proc.pid).items():
            if t.startswith("/memfd:"):
                st = os.stat("/proc/%d/fd/%d" % (d.proc.pid, fd))
                check(st.st_ino not in child_segments, "vigild still holds a child's segment")
                check(stat.S_IMODE(st.st_mode) == 0o600, "spare segment mode %o"
                      % stat.S_IMODE(st.st_mode))
        check(not shm_names_of(d.proc.pid), "names in /dev/shm: %r" % shm_names_of(d.proc.pid))
        # After a restart of the child too.
        old = rows["isolated"]["os_pid"]
        d.ctl("kill", "isolated")
        wait_for(lambda: d.ctl_json("status", "isolated")["workers"][0]["os_pid"]
                 not in (None, old), "the worker to restart")
        check(not shm_names_of(d.proc.pid), "names in /dev/shm after a restart")
    finally:
        d.cleanup()
