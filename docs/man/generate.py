#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the man pages' scdoc sources and the shell completions from the programs themselves.

Inputs are what the built programs print (nothing is typed twice), which this script runs:
  vigild --cli-reference, vigilctl --cli-reference   (vigil/common/cli_reference.hpp)
  vigil_config_reference                             (docs/man/config_reference.cpp)
and the hand-written prose of docs/man/*.scd.in, whose @PLACEHOLDER@ lines are replaced.

  generate.py --vigild BIN --vigilctl BIN --config BIN --templates DIR --version V --out DIR

Outputs in DIR: vigild.8.scd vigilctl.1.scd vigil.toml.5.scd, bash/vigild bash/vigilctl,
zsh/_vigild zsh/_vigilctl, fish/vigild.fish fish/vigilctl.fish.
"""
import argparse
import pathlib
import subprocess
import sys

SECTION_TITLES = {
    "daemon": "[daemon]: vigild itself",
    "observer": "[observer]: the web observer and metrics",
    "hook": "Each [[hook]]: a command or POST on events",
    "supervisor": "[supervisor], and children with type = \"supervisor\"",
    "child": "Every child, worker or supervisor",
    "backoff": "A child's backoff = { ... }",
    "worker": "Workers (type = \"worker\", the default)",
    "process": "OS processes: mode = \"process\" or command",
}


class Option:
    def __init__(self, names, value, doc):
        self.names = [n for n in names.split(",") if n]
        self.value = value
        self.doc = doc

    @property
    def positional(self):
        return not self.names[0].startswith("-")

    @property
    def takes_value(self):
        return bool(self.value) and not self.positional


class Program:
    def __init__(self, path, text):
        self.name = ""
        self.description = ""
        self.options = []  # global
        self.commands = []  # (name, description, [Option])
        for line in text.splitlines():
            fields = line.split("\t")
            if fields[0] == "program":
                self.name, self.description = fields[1], fields[2]
            elif fields[0] == "command":
                self.commands.append((fields[1], fields[2], []))
            elif fields[0] == "option":
                option = Option(fields[2], fields[3], fields[4])
                if fields[1]:
                    self.commands[-1][2].append(option)
                else:
                    self.options.append(option)
            else:
                sys.exit(f"{path}: unknown record {fields[0]!r}")
        if not self.name:
            sys.exit(f"{path}: no program record")

    def command_names(self):
        return [c[0] for c in self.commands]


# -- scdoc ----------------------------------------------------------------------------------


def scd(text):
    """Escapes scdoc's markup characters in plain text."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def value_name(option):
    value = option.value.split(":")[0] if option.value else ""
    return value if value and value != "BOOLEAN" else ""


def scd_option(option):
    if option.positional:
        head = f"_{scd(option.names[0])}_"
    else:
        head = ", ".join(f"*{scd(n)}*" for n in option.names)
        if option.takes_value:
            head += f" _{scd(value_name(option) or 'VALUE')}_"
    return f"{head}\n\t{scd(option.doc)}\n"


def scd_options(options):
    return "\n".join(scd_option(o) for o in options)


def scd_commands(program):
    out = []
    for name, description, options in program.commands:
        args = " ".join(
            (f"[_{scd(o.names[0])}_]" if "(required)" not in o.doc else f"_{scd(o.names[0])}_")
            for o in options
            if o.positional
        )
        out.append(f"## {name}\n\n*{program.name} {scd(name)}*{' ' + args if args else ''}\n\n"
                   f"{scd(description)}.\n")
        listed = [o for o in options if o.names != ["-h", "--help"]]
        if listed:
            out.append(scd_options(listed))
    return "\n".join(out)


def scd_config(text):
    out = []
    current = None
    for line in text.splitlines():
        section, name, expected, default, doc = line.split("\t")
        if section != current:
            current = section
            out.append(f"## {scd(SECTION_TITLES.get(section, section))}\n")
        if default == "required":
            default_text = "required"
        elif default == "unset":
            default_text = "no default"
        else:
            default_text = f"default {default}"
        out.append(f"*{scd(name)}* ({scd(expected)}; {scd(default_text)})\n\t{scd(doc)}\n")
    return "\n".join(out)


def fill(template, replacements):
    text = pathlib.Path(template).read_text()
    for key, value in replacements.items():
        text = text.replace(f"@{key}@", value)
    if "@" in "".join(line for line in text.splitlines() if line.startswith("@")):
        sys.exit(f"{template}: a placeholder was left unfilled")
    return text


# -- completions ----------------------------------------------------------------------------


def bash_words(options):
    return " ".join(n for o in options if not o.positional for n in o.names)


def bash_value_names(options):
    return "|".join(n for o in options if o.takes_value for n in o.names)


def bash(program):
    fn = "_" + program.name.replace("-", "_")
    lines = [
        f"# bash completion for {program.name}: generated by docs/man/generate.py from",
        f"# `{program.name} --cli-reference`; do not edit.",
        f"{fn}() {{",
        '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        f'  local global="{bash_words(program.options)}"',
    ]
    global_values = bash_value_names(program.options)
    file_case = f"    {global_values}) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n" \
        if global_values else ""
    if not program.commands:
        lines += [
            '  case "$prev" in',
            file_case.rstrip("\n"),
            "  esac",
            '  COMPREPLY=($(compgen -W "$global" -- "$cur"))',
            "}",
            f"complete -F {fn} {program.name}",
        ]
        return "\n".join(l for l in lines if l) + "\n"
    names = " ".join(program.command_names())
    lines += [
        f'  local commands="{names}"',
        '  local cmd="" i',
        "  for ((i = 1; i < COMP_CWORD; i++)); do",
        '    case "${COMP_WORDS[i]}" in',
    ]
    if global_values:
        lines.append(f"      {global_values}) ((i++)) ;;")
    lines += [
        "      -*) ;;",
        '      *) cmd="${COMP_WORDS[i]}"; break ;;',
        "    esac",
        "  done",
        '  case "$prev" in',
    ]
    if global_values:
        lines.append(file_case.rstrip("\n"))
    lines.append("  esac")
    per_command = [f"{name}:{n}" for name, _, options in program.commands
                   for o in options if o.takes_value for n in o.names]
    if per_command:
        lines += ['  case "$cmd:$prev" in', f"    {'|'.join(per_command)}) return ;;", "  esac"]
    lines += [
        '  if [[ -z $cmd ]]; then',
        '    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$global" -- "$cur"))',
        '    else COMPREPLY=($(compgen -W "$commands" -- "$cur")); fi',
        "    return",
        "  fi",
        '  local opts=""',
        '  case "$cmd" in',
    ]
    for name, _, options in program.commands:
        lines.append(f'    {name}) opts="{bash_words(options)}" ;;')
    lines += [
        "  esac",
        '  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))',
        '  elif [[ $cmd == help ]]; then COMPREPLY=($(compgen -W "$commands" -- "$cur")); fi',
        "}",
        f"complete -F {fn} {program.name}",
    ]
    return "\n".join(lines) + "\n"


def zsh_quote(text):
    return text.replace("'", "'\\''")


def zsh_spec(option):
    doc = zsh_quote(option.doc.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
                    .replace(":", "\\:"))
    value = ""
    if option.takes_value:
        action = "_files" if (value_name(option) in ("TEXT", "") and
                              any(k in option.doc.lower() for k in ("file", "socket", "path")))\
            else " "
        value = f":{(value_name(option) or 'value').lower()}:{action}"
    if len(option.names) == 1:
        return f"'{option.names[0]}[{doc}]{value}'"
    exclusive = " ".join(option.names)
    return " ".join(f"'({exclusive}){n}[{doc}]{value}'" for n in option.names)


def zsh(program):
    fn = "_" + program.name.replace("-", "_")
    lines = [
        f"#compdef {program.name}",
        f"# zsh completion for {program.name}: generated by docs/man/generate.py from",
        f"# `{program.name} --cli-reference`; do not edit.",
        f"{fn}() {{",
    ]
    global_specs = " \\\n    ".join(zsh_spec(o) for o in program.options if not o.positional)
    if not program.commands:
        lines += [f"  _arguments -s \\\n    {global_specs}", "}", f'{fn} "$@"']
        return "\n".join(lines) + "\n"
    lines.append("  local -a commands")
    lines.append("  commands=(")
    for name, description, _ in program.commands:
        lines.append(f"    '{name}:{zsh_quote(description.replace(':', chr(92) + ':'))}'")
    lines += [
        "  )",
        "  local curcontext=$curcontext state line",
        f"  _arguments -C \\\n    {global_specs} \\\n    '1: :->command' '*:: :->args'",
        "  case $state in",
        "    command) _describe -t commands 'command' commands ;;",
        "    args)",
        "      case $words[1] in",
    ]
    for name, _, options in program.commands:
        specs = [zsh_spec(o) for o in options if not o.positional]
        if name == "help":
            specs.append("'1: :->command'")
        lines.append(f"        {name}) _arguments {' '.join(specs)} ;;")
    lines += [
        "      esac",
        "      [[ $words[1] == help && $state == command ]] && "
        "_describe -t commands 'command' commands",
        "      ;;",
        "  esac",
        "}",
        f'{fn} "$@"',
    ]
    return "\n".join(lines) + "\n"


def fish_quote(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_option(program, option, condition):
    parts = [f"complete -c {program}"]
    if condition:
        parts.append(f"-n {fish_quote(condition)}")
    for n in option.names:
        if n.startswith("--"):
            parts.append(f"-l {n[2:]}")
        elif n.startswith("-"):
            parts.append(f"-s {n[1:]}")
    if option.takes_value:
        parts.append("-r")
    parts.append(f"-d {fish_quote(option.doc)}")
    return " ".join(parts)


def fish(program):
    lines = [
        f"# fish completion for {program.name}: generated by docs/man/generate.py from",
        f"# `{program.name} --cli-reference`; do not edit.",
    ]
    if program.commands:
        lines.append(f"complete -c {program.name} -f")
    for o in program.options:
        if not o.positional:
            lines.append(fish_option(program.name, o, ""))
    names = " ".join(program.command_names())
    for name, description, options in program.commands:
        lines.append(f"complete -c {program.name} -n {fish_quote('not __fish_seen_subcommand_from ' + names)}"
                     f" -a {name} -d {fish_quote(description)}")
        for o in options:
            if not o.positional:
                lines.append(fish_option(program.name, o, f"__fish_seen_subcommand_from {name}"))
    if "help" in program.command_names():
        lines.append(f"complete -c {program.name} -n {fish_quote('__fish_seen_subcommand_from help')}"
                     f" -a {fish_quote(names)}")
    return "\n".join(lines) + "\n"


def run(*command):
    return subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vigild", required=True)
    parser.add_argument("--vigilctl", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--templates", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    vigild = Program(args.vigild, run(args.vigild, "--cli-reference"))
    vigilctl = Program(args.vigilctl, run(args.vigilctl, "--cli-reference"))
    config = run(args.config)
    out = pathlib.Path(args.out)
    templates = pathlib.Path(args.templates)
    for sub in ("bash", "zsh", "fish"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    pages = {
        "vigild.8.scd": {"OPTIONS": scd_options(vigild.options)},
        "vigilctl.1.scd": {"OPTIONS": scd_options(vigilctl.options),
                           "COMMANDS": scd_commands(vigilctl)},
        "vigil.toml.5.scd": {"OPTIONS": scd_config(config)},
    }
    for page, replacements in pages.items():
        replacements["VERSION"] = args.version
        text = fill(templates / (page + ".in"), replacements)
        (out / page).write_text(text)
    for program in (vigild, vigilctl):
        (out / "bash" / program.name).write_text(bash(program))
        (out / "zsh" / ("_" + program.name)).write_text(zsh(program))
        (out / "fish" / (program.name + ".fish")).write_text(fish(program))


if __name__ == "__main__":
    main()
