#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The man pages and completions name every command and option of the programs.

They are generated at build time (docs/man/generate.py); this test reads the programs' own
description again (`--cli-reference`, vigil_config_reference) and checks the generated files
against it: the rendered roff of each page names every option, every vigilctl command and
every config option; bash completes every command and, after each command, every option
(run in a real bash); zsh and fish accept their files (-n) and name every option.

Usage: check_man.py VIGILD VIGILCTL CONFIG_REFERENCE GENERATED_DIR
"""
import pathlib
import re
import shutil
import subprocess
import sys

vigild, vigilctl, config_reference, generated = sys.argv[1:5]
gen = pathlib.Path(generated)
failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def run(*command):
    return subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout


def reference(program):
    """(global option names, {command: option names}) of a program."""
    options, commands = [], {}
    for line in run(program, "--cli-reference").splitlines():
        kind, *fields = line.split("\t")
        if kind == "command":
            commands[fields[0]] = []
        elif kind == "option":
            names = [n for n in fields[1].split(",") if n]
            (commands[fields[0]] if fields[0] else options).append(names)
    return options, commands


def roff_text(path):
    """The page's text with roff's font changes and escapes removed."""
    text = path.read_text()
    text = re.sub(r"\\f[BIRP]", "", text)
    return text.replace("\\-", "-").replace("\\\\", "\\").replace("\\&", "").replace("\\_", "_")


def bash_complete(script, words):
    """What `complete -F` offers for the command line `words` (the last word is the one
    being completed)."""
    line = " ".join(f"'{w}'" for w in words)
    program = f"""
source '{script}'
COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}
fn=$(complete -p {words[0]} | sed -E 's/.*-F ([^ ]+).*/\\1/')
$fn
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    return set(subprocess.run(["bash", "--norc", "-c", program], check=True,
                              stdout=subprocess.PIPE, text=True).stdout.split())


ctl_options, ctl_commands = reference(vigilctl)
d_options, d_commands = reference(vigild)
if not ctl_commands or not ctl_options or not d_options:
    fail("--cli-reference printed no commands or options")

# -- man pages ------------------------------------------------------------------------------
pages = {name: gen / name for name in ("vigild.8", "vigilctl.1", "vigil.toml.5")}
missing_pages = [str(p) for p in pages.values() if not p.exists()]
if missing_pages:
    print("SKIP: no man pages (scdoc missing at configure time?):", *missing_pages)
    sys.exit(77)
vigild_page = roff_text(pages["vigild.8"])
for names in d_options:
    for n in names:
        if not re.search(re.escape(n) + r"\b", vigild_page):
            fail(f"vigild(8) lacks {n}")
ctl_page = roff_text(pages["vigilctl.1"])
for names in ctl_options:
    for n in names:
        if not re.search(re.escape(n) + r"\b", ctl_page):
            fail(f"vigilctl(1) lacks the global option {n}")
for command, options in ctl_commands.items():
    section = re.search(r"^\.SS " + re.escape(command) + r"$(.*?)(?=^\.SS |^\.SH )", ctl_page,
                        re.M | re.S)
    if not section:
        fail(f"vigilctl(1) has no section for the command {command}")
        continue
    for names in options:
        if names == ["-h", "--help"]:
            continue
        for n in names:
            if not re.search(re.escape(n) + r"\b", section.group(1)):
                fail(f"vigilctl(1) lacks {n} under {command}")
config_page = roff_text(pages["vigil.toml.5"])
config_paths = [line.split("\t")[1] for line in run(config_reference).splitlines()]
if len(config_paths) < 20:
    fail(f"vigil_config_reference printed only {len(config_paths)} options")
for path in config_paths:
    if path not in config_page:
        fail(f"vigil.toml(5) lacks {path}")

# -- bash -----------------------------------------------------------------------------------
bash_ctl = gen / "bash/vigilctl"
offered = bash_complete(bash_ctl, ["vigilctl", ""])
if offered != set(ctl_commands):
    fail(f"bash: vigilctl <TAB> offers {sorted(offered)}, not {sorted(ctl_commands)}")
offered = bash_complete(bash_ctl, ["vigilctl", "-"])
for names in ctl_options:
    for n in names:
        if n not in offered:
            fail(f"bash: vigilctl -<TAB> lacks {n}")
for command, options in ctl_commands.items():
    offered = bash_complete(bash_ctl, ["vigilctl", command, "-"])
    for names in options:
        for n in (n for n in names if n.startswith("-")):
            if n not in offered:
                fail(f"bash: vigilctl {command} -<TAB> lacks {n}")
offered = bash_complete(bash_ctl, ["vigilctl", "help", "st"])
if offered != {c for c in ctl_commands if c.startswith("st")}:
    fail(f"bash: vigilctl help st<TAB> offers {sorted(offered)}")
offered = bash_complete(gen / "bash/vigild", ["vigild", "-"])
for names in d_options:
    for n in names:
        if n not in offered:
            fail(f"bash: vigild -<TAB> lacks {n}")

# -- zsh and fish ---------------------------------------------------------------------------
for shell, files in (("zsh", ["zsh/_vigild", "zsh/_vigilctl"]),
                     ("fish", ["fish/vigild.fish", "fish/vigilctl.fish"])):
    for f in files:
        if shutil.which(shell):
            result = subprocess.run([shell, "-n", str(gen / f)], stderr=subprocess.PIPE, text=True)
            if result.returncode != 0:
                fail(f"{shell} -n {f}: {result.stderr.strip()}")
        else:
            print(f"note: {shell} missing, its syntax is not checked")
        text = (gen / f).read_text()
        program_options = d_options if "vigild" in f and "vigilctl" not in f else \
            ctl_options + [o for opts in ctl_commands.values() for o in opts]
        for names in program_options:
            for n in (n for n in names if n.startswith("-")):
                spelled = n if shell == "zsh" else (f"-l {n[2:]}" if n.startswith("--")
                                                    else f"-s {n[1:]}")
                if spelled not in text:
                    fail(f"{f} lacks {n}")
        if "vigilctl" in f:
            for command in ctl_commands:
                spelled = f"'{command}:" if shell == "zsh" else f"-a {command} "
                if spelled not in text:
                    fail(f"{f} lacks the command {command}")

if failures:
    sys.exit(1)
print("PASS")
