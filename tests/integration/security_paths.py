# SPDX-License-Identifier: Apache-2.0
"""Security cases about paths and files as root (docs/security.md, "Paths and files as root"
and "Who may connect"): the socket's directory, a fake server, files that others control,
symlinks in the log directory. Each attack is made as another local user (nobody) where the
kernel lets one; run through security_test.py."""

import os
import shutil
import subprocess
import sys
import tempfile

from security_base import (ECHO, NOBODY, OTHER_USER_PYTHON, as_user, daemon, mode_of,
                           need_root, reachable, refused, started)
from vigild_harness import check, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_SERVER = os.path.join(HERE, "..", "security", "fake_server.py")


def root_dir(mode=0o755):
    """A fresh directory of root's, with `mode` (mkdtemp's own 0700 is trusted too)."""
    path = tempfile.mkdtemp(prefix="vigil-sec-paths-")
    os.chmod(path, mode)
    return path


def case_socket_dir_hijack(tools):
    """vigild refuses a socket directory that another user owns, that others may write, or
    that sits in a directory others may write (through a symlink too), naming it; nothing
    outside is chmod-ed or chown-ed."""
    need_root("(the attacker is another user)")
    base = root_dir()
    victim = os.path.join(base, "victim")
    os.mkdir(victim, 0o700)
    secret = os.path.join(victim, "control.sock")
    with open(secret, "w") as f:
        f.write("root's\n")
    os.chmod(secret, 0o600)
    try:
        # 1. The attacker made the socket's directory first.
        mine = os.path.join(base, "attacker-made")
        os.mkdir(mine, 0o755)
        os.chown(mine, NOBODY, NOBODY)
        d = daemon(tools, ECHO)
        d.socket = os.path.join(mine, "control.sock")
        try:
            d.start(expect_ready=False)
            refused(d, "refusing the socket directory " + mine, "owned by uid %d" % NOBODY)
        finally:
            d.cleanup()
        # 2. A directory every user may write, and 3. one below it, reached by a symlink the
        # attacker could point anywhere (here at root's own directory).
        shared = os.path.join(base, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        link = os.path.join(shared, "vigil")
        os.symlink(victim, link)
        os.lchown(link, NOBODY, NOBODY)
        for sock, needle in ((os.path.join(shared, "control.sock"),
                              "the directory %s is writable by every user" % shared),
                             (os.path.join(link, "control.sock"),
                              "the directory %s is writable by every user" % shared)):
            d = daemon(tools, ECHO)
            d.socket = sock
            try:
                d.start(expect_ready=False)
                refused(d, "refusing the socket directory", needle)
            finally:
                d.cleanup()
        check(mode_of(secret) == 0o600 and os.stat(secret).st_uid == 0,
              "root's file was changed: mode %o" % mode_of(secret))
        check(mode_of(victim) == 0o700, "root's directory was changed: %o" % mode_of(victim))
        # The socket's own directory is created by vigild, owned by it, 0700.
        d = started(tools, ECHO)
        try:
            run = os.path.dirname(d.socket)
            st = os.stat(run)
            check(st.st_uid == 0 and mode_of(run) == 0o700, "run dir %o uid %d"
                  % (mode_of(run), st.st_uid))
        finally:
            d.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def case_fake_server(tools):
    """Root's vigilctl refuses a server of another uid listening where it connects, and shows
    nothing of what it says."""
    need_root("(the fake server runs as another user)")
    base = root_dir()
    server = None
    try:
        run = os.path.join(base, "run")
        os.mkdir(run, 0o755)
        os.chown(run, NOBODY, NOBODY)
        sock = os.path.join(run, "control.sock")
        server = subprocess.Popen(as_user(NOBODY) + [OTHER_USER_PYTHON, reachable(FAKE_SERVER), sock],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = server.stdout.readline().strip()
        check(first == "ready", "the fake server did not start: %s %s"
              % (first, server.stdout.read() if server.poll() is not None else ""))
        r = subprocess.run([tools["vigilctl"], "--socket", sock, "--timeout", "10s", "status"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 3, "vigilctl exit %d:\n%s%s" % (r.returncode, r.stdout, r.stderr))
        check("%s is served by uid %d, not root or you: refusing" % (sock, NOBODY) in r.stderr,
              "no refusal: " + r.stderr)
        check("FAKE" not in r.stdout + r.stderr, "fake rows shown: " + r.stdout)
        # The same user's server is trusted: nobody's vigilctl talks to nobody's server.
        r = subprocess.run(as_user(NOBODY) + [reachable(tools["vigilctl"]), "--socket", sock, "--json",
                                              "--timeout", "10s", "status"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and "FAKE" in r.stdout, "own server refused: " + r.stderr)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(base, ignore_errors=True)


COMMAND = """
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "job"
command = ["%s", "1000"]
"""

PROCESS_WORKER = """
[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "isolated"
kind = "echo"
mode = "process"
"""


def check_config(tools, config, *extra):
    return subprocess.run([tools["vigild"], "--check-config", "--config", config] + list(extra),
                          capture_output=True, text=True, timeout=30)


def case_strict_modes(tools):
    """As root, vigild refuses a config, a plugin, a command's program and vigil-worker that
    someone other than root could change (owned by another user, writable by others, or in a
    directory others may write), at start, in --check-config and at reload, naming the file
    and why; --insecure-paths lets them through."""
    need_root("(the checks apply to vigild running as root)")
    base = root_dir()
    try:
        # The config: owned by another user, or in a directory every user may write.
        d = daemon(tools, ECHO)
        try:
            os.chown(d.config, NOBODY, NOBODY)
            d.start(expect_ready=False)
            refused(d, "refusing to load as root: the file %s is owned by uid %d"
                    % (os.path.realpath(d.config), NOBODY))
            r = check_config(tools, d.config)
            check(r.returncode == 100 and "owned by uid %d" % NOBODY in r.stderr,
                  "--check-config: %d %s" % (r.returncode, r.stderr))
            r = check_config(tools, d.config, "--insecure-paths")
            check(r.returncode == 0, "--insecure-paths: %d %s" % (r.returncode, r.stderr))
        finally:
            d.cleanup()
        open_dir = os.path.join(base, "open")
        os.mkdir(open_dir)
        os.chmod(open_dir, 0o777)
        config = os.path.join(open_dir, "vigil.toml")
        with open(config, "w") as f:
            f.write(ECHO)
        os.chmod(config, 0o644)
        r = check_config(tools, config)
        check(r.returncode == 100 and "the directory %s is writable by every user (mode 0777)"
              % open_dir in r.stderr, "config in a 0777 directory: %d %s"
              % (r.returncode, r.stderr))

        # A plugin in a directory every user may write (the file itself is root's, 0644).
        plugin = os.path.join(open_dir, "libgreeter.so")
        shutil.copy(tools["plugin"], plugin)
        os.chmod(plugin, 0o644)
        d = daemon(tools, '[daemon]\nplugins = ["%s"]\n' % plugin + ECHO)
        try:
            d.start(expect_ready=False)
            refused(d, "plugin %s: refusing to load as root: the directory %s is writable by "
                    "every user" % (plugin, open_dir))
        finally:
            d.cleanup()

        # A command's program: writable by its group, then found in a PATH directory that
        # every user may write.
        prog = os.path.join(base, "prog")
        shutil.copy("/bin/sleep", prog)
        os.chmod(prog, 0o775)
        d = daemon(tools, COMMAND % prog)
        try:
            d.start(expect_ready=False)
            refused(d, "root/job: command %s: refusing to run as root: the file %s is writable by its "
                    "group" % (prog, prog))
        finally:
            d.cleanup()
        shutil.copy("/bin/sleep", os.path.join(open_dir, "vigil-sleep"))
        config = COMMAND % "vigil-sleep" + 'env = { PATH = "%s" }\n' % open_dir
        d = daemon(tools, config)
        try:
            r = check_config(tools, d.config)
            check(r.returncode == 100 and "root/job: command vigil-sleep: refusing to run as root: the "
                  "directory %s is writable by every user" % open_dir in r.stderr,
                  "command in PATH: %d %s" % (r.returncode, r.stderr))
            # --insecure-paths: it runs.
            d.extra_args = ["--insecure-paths"]
            d.start()
            check(d.ctl_json("status", "job")["workers"][0]["state"] == "running",
                  "the relaxed command does not run")
            check("--insecure-paths" in d.read_log(), "the relaxation is not logged")
        finally:
            d.cleanup()

        # A reload that would run an untrusted program changes nothing.
        d = started(tools, COMMAND % "/bin/sleep")
        try:
            d.write_config(COMMAND % prog)
            r = d.ctl("reload", expect=1)
            check("refusing to run as root: the file %s is writable by its group" % prog in r.stderr,
                  "reload: " + r.stderr)
            check(d.ctl_json("status", "job")["workers"][0]["state"] == "running",
                  "the tree changed")
        finally:
            d.cleanup()

        # vigil-worker of a process-mode child, in a directory every user may write.
        worker = os.path.join(open_dir, "vigil-worker")
        shutil.copy(tools["worker"], worker)
        saved = os.environ["VIGIL_WORKER_PROGRAM"]
        os.environ["VIGIL_WORKER_PROGRAM"] = worker
        try:
            d = daemon(tools, PROCESS_WORKER)
            try:
                d.start(expect_ready=False)
                refused(d, "root/isolated: vigil-worker %s: refusing to run as root: the directory %s "
                        "is writable by every user" % (worker, open_dir))
            finally:
                d.cleanup()
        finally:
            os.environ["VIGIL_WORKER_PROGRAM"] = saved
    finally:
        shutil.rmtree(base, ignore_errors=True)


CHATTY = """
[daemon]
log_dir = "%s"

[supervisor]
strategy = "one_for_one"

[[supervisor.children]]
id = "chatty"
command = ["/bin/sh", "-c", "echo chatty-line; exec sleep 1000"]
"""


def case_log_symlink(tools):
    """A symlink in log_dir does not redirect a worker's log: the open fails, vigild logs why,
    the target is untouched and the worker runs on, its lines in memory. A log_dir that
    others may write is not written at all."""
    need_root("(root's appends are what a link would redirect)")
    base = root_dir()
    try:
        target = os.path.join(base, "target")
        with open(target, "w") as f:
            f.write("root's\n")
        os.chmod(target, 0o600)
        logs = os.path.join(base, "logs")
        os.mkdir(logs, 0o755)
        link = os.path.join(logs, "root%2Fchatty.log")
        os.symlink(target, link)
        d = started(tools, CHATTY % logs)
        try:
            wait_for(lambda: "unable to open the log " + link in d.read_log(),
                     "the refused log to be reported")
            check("symlink" in d.read_log(), "the report does not say why:\n" + d.read_log())
            out = d.ctl("logs", "chatty", "-n", "5").stdout
            check("chatty-line" in out, "the line is not kept in memory: " + out)
            check(d.ctl_json("status", "chatty")["workers"][0]["state"] == "running",
                  "the worker does not run")
        finally:
            d.cleanup()
        with open(target) as f:
            check(f.read() == "root's\n", "the symlink's target was written to")
        check(mode_of(target) == 0o600, "the target's mode changed")

        # A log directory every user may write: nobody plants a link after the start.
        shared = os.path.join(base, "shared-logs")
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        d = daemon(tools, CHATTY % shared)
        try:
            subprocess.run(as_user(NOBODY) + ["ln", "-s", target,
                                              os.path.join(shared, "root%2Fchatty.log")],
                           check=True)
            d.start()
            wait_for(lambda: "not writing worker logs to " + shared in d.read_log(),
                     "the untrusted log directory to be reported")
            check("is writable by every user" in d.read_log(), d.read_log())
            wait_for(lambda: "chatty-line" in d.ctl("logs", "chatty").stdout,
                     "the worker's lines")
        finally:
            d.cleanup()
        with open(target) as f:
            check(f.read() == "root's\n", "the target was written through a shared directory")
    finally:
        shutil.rmtree(base, ignore_errors=True)
