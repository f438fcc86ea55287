#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every command line and config snippet in README.md and docs/ is checked against the real
binaries (issue #19: docs that are not true).

- A TOML block must parse; one with a [supervisor] table is a whole config and must pass
  `vigild --check-config`.
- A command (a `$ ` line in any block, a line of a sh block, or a `vigilctl ...` or
  `vigild ...` span in the prose) is checked by what it runs:
  vigilctl's subcommand must exist and each of its flags be one that `vigilctl help` lists;
  vigild's flags must be in `vigild --help`; scripts/ files, make targets and CMake presets
  must exist.

Usage: check_docs.py VIGILD VIGILCTL SOURCE_DIR
"""

import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib


HOST_PROBLEM = re.compile(r"\.command: program |\.user: unknown user|\.group: unknown group")


def blocks(path):
    """(first line number, info string, lines) of each fenced block."""
    out, current, info, start = [], None, "", 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith("```"):
                if current is None:
                    current, info, start = [], line[3:].strip(), n + 1
                else:
                    out.append((start, info, current))
                    current = None
            elif current is not None:
                current.append(line.rstrip("\n"))
    return out


class Checker:
    def __init__(self, vigild, vigilctl, source):
        self.vigild, self.vigilctl, self.source = vigild, vigilctl, source
        self.failures = []
        self.checked = {"toml": 0, "config": 0, "command": 0}
        self.help = {}
        self.vigild_help = self.run([vigild, "--help"]).stdout
        self.global_help = self.run([vigilctl, "--help"]).stdout
        with open(os.path.join(source, "Makefile")) as f:
            self.make_targets = set(re.findall(r"^([\w-]+):", f.read(), re.M))
        with open(os.path.join(source, "CMakePresets.json")) as f:
            presets = json.load(f)
        self.presets = {p["name"] for kind in ("configurePresets", "workflowPresets")
                        for p in presets.get(kind, [])}

    @staticmethod
    def run(cmd):
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def fail(self, where, what):
        self.failures.append("%s: %s" % (where, what))

    def ctl_help(self, sub):
        if sub not in self.help:
            r = self.run([self.vigilctl, "help", sub])
            self.help[sub] = r.stdout if r.returncode == 0 else None
        return self.help[sub]

    def check_toml(self, where, lines):
        text = "\n".join(lines) + "\n"
        self.checked["toml"] += 1
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            self.fail(where, "TOML does not parse: %s" % e)
            return
        if not re.search(r"^\[supervisor\]", text, re.M):
            return  # a fragment: its keys are checked where a whole config shows them
        self.checked["config"] += 1
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "vigil.toml")
            with open(path, "w") as f:
                f.write(text)
            r = self.run([self.vigild, "--check-config", "--config", path])
            # What the host lacks (a container's /app/worker, its users) is no fault of the
            # text; every other problem is.
            problems = [p for p in (r.stdout + r.stderr).splitlines()
                        if p.strip() and not HOST_PROBLEM.search(p)]
            if r.returncode != 0 and problems:
                self.fail(where, "vigild --check-config refuses it:\n" + "\n".join(problems))

    def check_command(self, where, line):
        line = line.split(" #")[0].strip()
        for sep in ("|", "&&", ";"):
            line = line.split(sep)[0].strip()
        try:
            words = shlex.split(line)
        except ValueError:
            return
        words = [w for w in words if "=" not in w or w.startswith("-")]  # VAR=value prefixes
        if not words:
            return
        if words[0] == "sudo":
            words = words[1:]
        if not words:
            return
        tool = os.path.basename(words[0])
        if tool == "vigilctl":
            self.checked["command"] += 1
            self.check_vigilctl(where, words[1:])
        elif tool == "vigild":
            self.checked["command"] += 1
            for w in words[1:]:
                flag = w.split("=")[0]
                if flag.startswith("--") and flag not in self.vigild_help:
                    self.fail(where, "vigild has no flag %s" % flag)
        elif words[0].startswith("scripts/"):
            self.checked["command"] += 1
            if not os.path.exists(os.path.join(self.source, words[0])):
                self.fail(where, "no file %s" % words[0])
        elif tool == "make" and len(words) > 1 and not words[1].startswith("-"):
            self.checked["command"] += 1
            if words[1] not in self.make_targets:
                self.fail(where, "no make target %s" % words[1])
        elif tool == "cmake" and "--preset" in words:
            self.checked["command"] += 1
            preset = words[words.index("--preset") + 1]
            if preset not in self.presets:
                self.fail(where, "no CMake preset %s" % preset)

    def check_vigilctl(self, where, args):
        i = 0
        while i < len(args) and args[i].startswith("-"):
            if args[i] in ("--socket", "--timeout"):
                i += 1
            elif args[i].split("=")[0] not in self.global_help:
                self.fail(where, "vigilctl has no global option %s" % args[i])
            i += 1
        if i >= len(args):
            return
        sub = args[i]
        text = self.ctl_help(sub)
        if text is None:
            self.fail(where, "vigilctl has no command %r" % sub)
            return
        for w in args[i + 1:]:
            flag = w.split("=")[0]
            if re.fullmatch(r"--?[A-Za-z][\w-]*", flag) and not re.search(
                    r"(^|[\s,])%s\b" % re.escape(flag), text + self.global_help):
                self.fail(where, "vigilctl %s has no option %s" % (sub, flag))

    def check_file(self, path):
        rel = os.path.relpath(path, self.source)
        # Commands quoted in the prose: `vigilctl reload --dry-run`, `vigild --check-config`.
        in_block = False
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if line.startswith("```"):
                    in_block = not in_block
                    continue
                if in_block:
                    continue
                for span in re.findall(r"`((?:vigilctl|vigild) [^`]+)`", line):
                    self.check_command("%s:%d" % (rel, n), span)
        for start, info, lines in blocks(path):
            where = "%s:%d" % (rel, start)
            lang = info.split()[0] if info else ""
            if lang == "toml":
                self.check_toml(where, lines)
                continue
            for k, line in enumerate(lines):
                at = "%s:%d" % (rel, start + k)
                if line.startswith("$ "):
                    self.check_command(at, line[2:])
                elif lang in ("sh", "bash", "shell", "console") and line.strip() \
                        and not line.startswith((" ", "#")):
                    self.check_command(at, line)


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    c = Checker(*argv[1:4])
    paths = [os.path.join(argv[3], "README.md")] + sorted(
        glob.glob(os.path.join(argv[3], "docs", "*.md")))
    for path in paths:
        c.check_file(path)
    for f in c.failures:
        print("FAIL: " + f, file=sys.stderr)
    print("checked %(toml)d TOML blocks (%(config)d whole configs) and %(command)d command lines"
          % c.checked)
    if c.checked["command"] == 0 or c.checked["config"] == 0:
        print("FAIL: found nothing to check", file=sys.stderr)
        return 1
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
