#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""vigild --check-config catches what can be known without starting (docs/vigild.md,
"Checking a config"): an unknown kind, kind arguments against the kind's schema, a program
not found or not executable, an unknown user or group, a plugin that will not load. Each is
an error at file:line:col naming the option, every one in the file is reported, and the exit
code is 100; a valid file exits 0. Boot and reload refuse kind errors too.

Usage: check_config_test.py VIGILD VIGILCTL SOURCE_DIR GREETER_PLUGIN CASE
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Daemon, Failure, check, wait_for  # noqa: E402


def at(text, line_has, token):
    """"L:C" of `token` in the first line of `text` that contains `line_has`."""
    for n, line in enumerate(text.split("\n"), start=1):
        if line_has in line:
            col = line.index(token)
            return "%d:%d" % (n, col + 1)
    raise Failure("test bug: no line with %r" % line_has)


class Checker:
    def __init__(self, vigild):
        self.vigild = vigild
        self.dir = tempfile.mkdtemp(prefix="vigil-check-")
        self.config = os.path.join(self.dir, "vigil.toml")

    def run(self, text, env=None):
        with open(self.config, "w") as f:
            f.write(text)
        os.chmod(self.config, 0o644)
        return subprocess.run([self.vigild, "--check-config", "--config", self.config],
                              capture_output=True, text=True, timeout=60, env=env)

    def expect_errors(self, text, expected):
        """Exit 100 with exactly the `expected` errors (without the file's path), in order."""
        r = self.run(text)
        check(r.returncode == 100, "exit %d, expected 100\n%s%s" % (r.returncode, r.stdout,
                                                                     r.stderr))
        lines = [line for line in r.stderr.splitlines() if line]
        want = ["%s:%s" % (self.config, e) for e in expected]
        check(lines == want, "errors:\n%s\nexpected:\n%s" % ("\n".join(lines), "\n".join(want)))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def child(body):
    return "[[supervisor.children]]\n" + body


def case_unknown_kind(vigild, source, greeter):
    c = Checker(vigild)
    try:
        text = child('id = "w"\nkind = "ecko"\n')
        c.expect_errors(text, ['%s: supervisor.children[0].kind: unknown worker kind "ecko" '
                               '(known: crasher, dispatcher, echo, ready_when_told)'
                               % at(text, "kind", '"ecko"')])
    finally:
        c.cleanup()


def case_bad_args(vigild, source, greeter):
    c = Checker(vigild)
    try:
        text = child('id = "w"\nkind = "echo"\nargs = { delay = "soon", dealy = 2 }\n')
        c.expect_errors(text, [  # in file order
            '%s: supervisor.children[0].args.delay: expected a duration such as "2s", "1m30s" '
            'or "250ms" (or an integer of milliseconds), got "soon"'
            % at(text, "args", '"soon"'),
            '%s: supervisor.children[0].args.dealy: unknown argument (it takes delay, and name)'
            % at(text, "args", "2 }"),
        ])
    finally:
        c.cleanup()


def case_missing_program(vigild, source, greeter):
    c = Checker(vigild)
    try:
        text = child('id = "web"\ncommand = ["vigil-no-such-program", "-x"]\n'
                     'env = { PATH = "%s" }\n' % c.dir)
        c.expect_errors(text, ['%s: supervisor.children[0].command: program '
                               '"vigil-no-such-program" not found in PATH (%s)'
                               % (at(text, "command", '"vigil-no'), c.dir)])
        # Found in the child's PATH, which the daemon's lacks: fine.
        tool = os.path.join(c.dir, "vigil-no-such-program")
        with open(tool, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(tool, 0o755)
        r = c.run(text)
        check(r.returncode == 0, "a program in the child's PATH: %s" % r.stderr)
    finally:
        c.cleanup()


def case_not_executable(vigild, source, greeter):
    c = Checker(vigild)
    try:
        tool = os.path.join(c.dir, "tool")
        with open(tool, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(tool, 0o644)
        text = child('id = "t"\ncommand = ["%s"]\n' % tool)
        c.expect_errors(text, ['%s: supervisor.children[0].command: program not executable '
                               '(mode 0644): %s' % (at(text, "command", '"/'), tool)])
    finally:
        c.cleanup()


def case_unknown_user(vigild, source, greeter):
    c = Checker(vigild)
    try:
        text = child('id = "t"\ncommand = ["sh", "-c", "true"]\nuser = "vigil-no-such-user"\n')
        c.expect_errors(text, ['%s: supervisor.children[0].user: unknown user '
                               '"vigil-no-such-user": no such user on this host'
                               % at(text, "user", '"vigil')])
    finally:
        c.cleanup()


def case_unknown_group(vigild, source, greeter):
    c = Checker(vigild)
    try:
        text = child('id = "t"\nkind = "echo"\nmode = "process"\n'
                     'group = "vigil-no-such-group"\n')
        c.expect_errors(text, ['%s: supervisor.children[0].group: unknown group '
                               '"vigil-no-such-group": no such group on this host'
                               % at(text, "group", '"vigil')])
    finally:
        c.cleanup()


def case_bad_plugin(vigild, source, greeter):
    c = Checker(vigild)
    try:
        bogus = os.path.join(c.dir, "libbogus.so")
        with open(bogus, "w") as f:
            f.write("not a shared object\n")
        os.chmod(bogus, 0o644)
        # The greeter's kind is known once it loads; a kind of the bogus one is not.
        text = ('[daemon]\nplugins = ["%s", "libbogus.so"]\n\n' % greeter
                + child('id = "g"\nkind = "greeter"\nargs = { greeting = 3 }\n'))
        r = c.run(text)
        check(r.returncode == 100, "exit %d: %s" % (r.returncode, r.stderr))
        lines = r.stderr.splitlines()
        check(len(lines) == 2, "errors: %r" % lines)
        check(lines[0].startswith("%s:%s: daemon.plugins[1]: plugin %s: cannot load: "
                                  % (c.config, at(text, "plugins", '"libbogus'), bogus)),
              "plugin error: " + lines[0])
        check(lines[1] == "%s:%s: supervisor.children[0].args.greeting: expected a string, "
                          "got 3" % (c.config, at(text, "args", "3 }")),
              "the loaded plugin's schema: " + lines[1])
    finally:
        c.cleanup()


def case_all_errors(vigild, source, greeter):
    """Every problem of the file, in file order, beside the errors the file's text has."""
    c = Checker(vigild)
    try:
        text = (child('id = "a"\nkind = "ecko"\n')
                + child('id = "b"\nrestart = "often"\ncommand = ["vigil-no-such-program"]\n')
                + child('id = "c"\ncommand = ["sh"]\nuser = "vigil-no-such-user"\n'))
        r = c.run(text)
        check(r.returncode == 100, "exit %d" % r.returncode)
        lines = r.stderr.splitlines()
        check(len(lines) == 4, "every error reported: %r" % lines)
        expected = [(at(text, "ecko", '"ecko"'), "supervisor.children[0].kind"),
                    (at(text, "often", '"often"'), "supervisor.children[1].restart"),
                    (at(text, "vigil-no-such-program", '"vigil'), "supervisor.children[1].command"),
                    (at(text, "user", '"vigil'), "supervisor.children[2].user")]
        for line, (where, option) in zip(lines, expected):
            check(line.startswith("%s:%s: %s: " % (c.config, where, option)),
                  "%r, expected %s %s" % (line, where, option))
    finally:
        c.cleanup()


def case_valid(vigild, source, greeter):
    c = Checker(vigild)
    try:
        for name in ("configs/example.toml", "configs/demo.toml"):
            r = subprocess.run([vigild, "--check-config", "--config", os.path.join(source, name)],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, "%s: exit %d\n%s" % (name, r.returncode, r.stderr))
        text = ('[daemon]\nplugins = ["%s"]\n\n' % greeter
                + child('id = "e"\nkind = "echo"\nargs = { delay = "1m30s", name = "e" }\n')
                + child('id = "c"\nkind = "crasher"\nargs = { crash_after = 2000 }\n')
                + child('id = "g"\nkind = "greeter"\nmode = "process"\n'
                        'args = { greeting = "Dear" }\nuser = "0"\ngroup = "0"\n')
                + child('id = "sh"\ncommand = ["sh", "-c", "sleep 1"]\n'))
        r = c.run(text)
        check(r.returncode == 0, "exit %d\n%s" % (r.returncode, r.stderr))
        check("e " in r.stdout or "e:" in r.stdout or "/e" in r.stdout or " e" in r.stdout,
              "the tree printed: " + r.stdout)
    finally:
        c.cleanup()


SMALL = child('id = "e"\nkind = "echo"\nargs = { delay = "50ms" }\n')


def case_boot_and_reload(vigild, source, greeter, vigilctl):
    """Boot refuses a kind error with exit 100 at file:line:col; a duration with units runs;
    a reload with bad kind arguments leaves the running tree untouched."""
    text = child('id = "w"\nkind = "echo"\nargs = { delay = "soon" }\n')
    bad = Daemon(vigild, vigilctl, text)
    try:
        bad.start(expect_ready=False)
        check(bad.wait() == 100, "exit code at boot")
        check("vigil.toml:%s: supervisor.children[0].args.delay: expected a duration"
              % at(text, "args", '"soon"') in bad.read_log(), bad.read_log())
    finally:
        bad.cleanup()

    d = Daemon(vigild, vigilctl, SMALL).start()
    try:
        def pids():
            return {w["path"]: w["pid"] for w in d.ctl_json("status")["workers"]}
        before = pids()
        check(list(before) == ["root/e"], "status: %r" % before)
        d.write_config(SMALL.replace('"50ms"', '"later"'))
        r = d.ctl("reload", expect=1)
        check("supervisor.children[0].args.delay: expected a duration" in r.stderr,
              "reload errors: " + r.stderr)
        check(pids() == before, "an invalid reload changed the tree")
        # A missing program is a warning on reload: the file applies, the log says why.
        d.write_config(SMALL + child('id = "gone"\ncommand = ["vigil-no-such-program"]\n'))
        d.ctl("reload", expect=None)
        wait_for(lambda: "warning: supervisor.children[1].command: program "
                 "\"vigil-no-such-program\" not found" in d.read_log(), "the reload's warning")
    finally:
        d.cleanup()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main(argv):
    if len(argv) != 6 or argv[5] not in CASES:
        print(__doc__ + "cases: " + ", ".join(CASES), file=sys.stderr)
        return 2
    vigild, vigilctl, source, greeter, case = argv[1:]
    try:
        if case == "boot_and_reload":
            CASES[case](vigild, source, greeter, vigilctl)
        else:
            CASES[case](vigild, source, greeter)
    except Failure as e:
        print("FAIL: %s: %s" % (case, e), file=sys.stderr)
        return 1
    print("ok: " + case)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
