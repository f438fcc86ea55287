// SPDX-License-Identifier: Apache-2.0
// The documentation side of the option table: names, paths, "expected" phrases and the
// reference tables of docs/config.md.
#include "option_table.hpp"

#include <vector>

namespace vigil::config {
namespace {

std::string join_choices(std::span<const std::string_view> choices, std::string_view quote) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += quote;
    out += choices[i];
    out += quote;
  }
  return out;
}

std::string_view section_heading(section s) {
  switch (s) {
  case section::daemon: return "`[daemon]`: vigild itself";
  case section::observer: return "`[observer]`: the web observer and metrics (docs/observer.md)";
  case section::hook: return "Each `[[hook]]`: a command or POST on events (docs/observer.md)";
  case section::supervisor: return "`[supervisor]`, and children with `type = \"supervisor\"`";
  case section::child: return "Every entry of `children`";
  case section::backoff: return "A child's `backoff = { ... }`";
  case section::worker: return "Workers (`type = \"worker\"`, the default)";
  case section::process: return "Workers run as OS processes (`mode = \"process\"` or `command`)";
  }
  return "";
}

std::string type_column(const option_info& o) {
  switch (o.type) {
  case option_type::string: return "string";
  case option_type::name: return "name";
  case option_type::path: return "absolute path";
  case option_type::integer: return "integer";
  case option_type::number: return "number";
  case option_type::boolean: return "boolean";
  case option_type::duration: return "duration";
  case option_type::shutdown: return "`\"brutal_kill\"`, duration or `\"infinity\"`";
  case option_type::choice:
  case option_type::signal: return "one of " + join_choices(o.choices, "`");
  case option_type::umask: return "octal mode";
  case option_type::string_list: return "array of strings";
  case option_type::string_table: return "table of strings";
  case option_type::term_table: return "table (term map)";
  case option_type::rlimits: return "table of limits";
  case option_type::limits: return "table of cgroup limits";
  case option_type::probe: return "`\"started\"`, `\"notify\"` or table of one check";
  case option_type::exit_codes: return "array of exit statuses";
  case option_type::tasks: return "integer, `\"N%\"` or `\"infinity\"`";
  case option_type::table: return "table";
  case option_type::table_array: return "array of tables";
  }
  return "";
}

std::string default_column(const option_info& o) {
  if (o.required) {
    return "required";
  }
  if (o.default_value.empty()) {
    return "unset";
  }
  return "`" + std::string(o.default_value) + "`";
}

} // namespace

std::span<const option_info> option_catalogue() {
  static const std::vector<option_info> infos = [] {
    std::vector<option_info> out;
    for (const auto& o : detail::option_table()) {
      out.push_back(o.info);
    }
    return out;
  }();
  return infos;
}

std::string_view section_name(section s) {
  switch (s) {
  case section::daemon: return "daemon";
  case section::observer: return "observer";
  case section::hook: return "hook";
  case section::supervisor: return "supervisor";
  case section::child: return "child";
  case section::backoff: return "backoff";
  case section::worker: return "worker";
  case section::process: return "process";
  }
  return "";
}

std::string option_path(const option_info& option) {
  std::string name(option.name);
  switch (option.where) {
  case section::daemon: return "daemon." + name;
  case section::observer: return "observer." + name;
  case section::hook: return "hook[]." + name;
  case section::supervisor: return "supervisor." + name;
  case section::backoff: return "children[].backoff." + name;
  case section::child:
  case section::worker:
  case section::process: return "children[]." + name;
  }
  return name;
}

std::string expected_phrase(const option_info& option) {
  switch (option.type) {
  case option_type::string: return "a string";
  case option_type::name: return "a name of letters, digits, '_', '-' and '.'";
  case option_type::path: return "an absolute path";
  case option_type::integer: return "an integer";
  case option_type::number: return "a number";
  case option_type::boolean: return "true or false";
  case option_type::duration: return "a duration such as \"5s\" or \"250ms\"";
  case option_type::shutdown: return "\"brutal_kill\", \"infinity\" or a duration such as \"5s\"";
  case option_type::choice:
  case option_type::signal: return "one of " + join_choices(option.choices, "");
  case option_type::umask: return "an octal mode such as 0o022 or \"022\"";
  case option_type::string_list: return "an array of strings";
  case option_type::string_table: return "a table of strings";
  case option_type::rlimits: return "a table of resource limits";
  case option_type::limits: return "a table of cgroup limits";
  case option_type::probe:
    return option.name == "health" ? "a table with one check: tcp, http or exec"
                                   : "\"started\", \"notify\" or a table with one check";
  case option_type::exit_codes: return "an array of exit statuses from 0 to 255";
  case option_type::tasks:
    return "a number of tasks from 1, a percentage of the host's from 1% to 100% such as "
           "\"15%\", or \"infinity\"";
  case option_type::term_table:
  case option_type::table: return "a table";
  case option_type::table_array: return "an array of tables";
  }
  return "a value";
}

std::string render_option_reference() {
  std::string out;
  const section order[] = {section::daemon, section::observer, section::hook,   section::supervisor,
                           section::child,  section::backoff,  section::worker, section::process};
  for (section s : order) {
    if (!out.empty()) {
      out += '\n';
    }
    out += "### ";
    out += section_heading(s);
    out += "\n\n| option | type | default | description |\n|---|---|---|---|\n";
    for (const auto& o : option_catalogue()) {
      if (o.where == s) {
        out += "| `" + option_path(o) + "` | " + type_column(o) + " | " + default_column(o) + " | "
               + std::string(o.doc) + " |\n";
      }
    }
  }
  return out;
}

} // namespace vigil::config
