// SPDX-License-Identifier: Apache-2.0
// `vigild --cli-reference` and `vigilctl --cli-reference`: the command line as data, one
// tab-separated record a line, from which docs/man/generate.py writes the man pages' option
// sections and the shell completions. Walking the CLI11 app itself means that an option added
// to a program is in its man page and its completions at the next build.
//
// Include only from a file that already includes CLI11 (each program's main.cpp).
//
//   program  NAME  DESCRIPTION
//   option   COMMAND  NAMES  VALUE  DESCRIPTION    (COMMAND "" for a global option; NAMES
//                                                   "-n,--lines" or "NAME" for a positional;
//                                                   VALUE the type name, "" for a flag)
//   command  NAME  DESCRIPTION
#pragma once

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>

namespace vigil::cli_reference {

/// Tabs and newlines would break a record: they become spaces.
inline std::string flat(std::string text) {
  for (char& c : text) {
    if (c == '\t' || c == '\n') {
      c = ' ';
    }
  }
  return text;
}

inline void print_options(const CLI::App& app, const std::string& command, std::ostream& out) {
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) {
      continue; // hidden
    }
    std::string names = o->get_name(true, true); // positional NAME, or every -s,--long name
    if (names.empty()) {
      continue;
    }
    bool flag = o->get_expected_max() == 0;
    std::string value = flag ? "" : o->get_type_name();
    if (!flag && value.empty()) {
      value = "VALUE";
    }
    out << "option\t" << command << '\t' << names << '\t' << flat(value) << '\t'
        << flat(o->get_description()) << (o->get_required() ? " (required)" : "") << '\n';
  }
}

/// Prints the app and its subcommands (one level: vigilctl's commands have none).
inline void print(const CLI::App& app, std::ostream& out) {
  out << "program\t" << app.get_name() << '\t' << flat(app.get_description()) << '\n';
  print_options(app, "", out);
  for (const CLI::App* sub : app.get_subcommands({})) {
    out << "command\t" << sub->get_name() << '\t' << flat(sub->get_description()) << '\n';
    print_options(*sub, sub->get_name(), out);
  }
}

/// True when the command line is exactly `PROGRAM --cli-reference` (a hidden flag).
inline bool requested(int argc, char** argv) {
  return argc == 2 && std::string(argv[1]) == "--cli-reference"; // NOLINT(*-pointer-arithmetic)
}

} // namespace vigil::cli_reference
