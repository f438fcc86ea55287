// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace vigil::config {

/// The tables of vigil.toml an option may appear in.
enum class section : std::uint8_t {
  daemon,     ///< `[daemon]`
  observer,   ///< `[observer]`
  hook,       ///< each `[[hook]]`
  supervisor, ///< `[supervisor]`, and a child with `type = "supervisor"`
  child,      ///< every entry of `children`, worker or supervisor
  backoff,    ///< a child's `backoff = { ... }`
  worker,     ///< a child with `type = "worker"` (the default)
  process,    ///< a worker run as an OS process: `mode = "process"` or `command`
};

/// What an option's value must look like. Each type has one "expected ..." phrase.
enum class option_type : std::uint8_t {
  string,       ///< any string
  name,         ///< a string of letters, digits, '_', '-' and '.'
  path,         ///< an absolute path
  integer,      ///< an integer (its validator states the range)
  number,       ///< an integer or a float
  boolean,      ///< true or false
  duration,     ///< "5s", "250ms", "1m30s" (vigil/common/duration.hpp)
  shutdown,     ///< "brutal_kill", "infinity" or a duration
  choice,       ///< one of `choices`
  signal,       ///< a signal name, with or without "SIG": one of `choices`
  umask,        ///< an octal mode: 0o022 or "022"
  string_list,  ///< an array of strings
  string_table, ///< a table whose values are strings
  term_table,   ///< a table of any values, read as a term map (a child's args)
  rlimits,      ///< a table of resource limits named in `choices` (a child's rlimits)
  limits,       ///< a table of cgroup limits named in `choices` (a child's limits)
  probe,        ///< "started", "notify" or a table with one check (ready, health)
  exit_codes,   ///< an array of exit statuses, 0 to 255
  tasks,        ///< a number of tasks, a percentage of the host's ("15%") or "infinity"
  table,        ///< a table of further options (backoff)
  table_array,  ///< an array of tables (children)
};

/// One option of vigil.toml, as documented. The option table in the loader holds one of these
/// per option along with its validator and the field it sets, so documentation, example and
/// loader cannot drift apart.
struct option_info {
  section where;
  std::string_view name;
  option_type type;
  /// The default as a TOML literal ("5s" with its quotes, 3, false, []); writing it has the
  /// same effect as leaving the option out. Empty when there is no such literal: the option
  /// is required, or its absence means something no value says (then `doc` explains).
  std::string_view default_value;
  /// For choice and signal options, the accepted values.
  std::span<const std::string_view> choices;
  bool required = false;
  /// What the option does, in one paragraph of plain text.
  std::string_view doc;
};

/// Every option, grouped by section in the order docs/config.md lists them.
[[nodiscard]] std::span<const option_info> option_catalogue();

/// The section's name in documentation: "daemon", "supervisor", "child", "backoff", "worker",
/// "process".
[[nodiscard]] std::string_view section_name(section s);

/// How an option is spelled in documentation: "daemon.socket", "supervisor.strategy",
/// "children[].restart", "children[].backoff.initial" (worker and process options are
/// "children[].kind" too).
[[nodiscard]] std::string option_path(const option_info& option);

/// What a value of `option` must look like, as errors print it after "expected":
/// "one of permanent, transient, temporary", "a duration such as \"5s\" or \"250ms\"".
[[nodiscard]] std::string expected_phrase(const option_info& option);

/// The reference tables of docs/config.md (Markdown, one table per section), generated from
/// the catalogue; a test keeps the file's copy identical.
[[nodiscard]] std::string render_option_reference();

} // namespace vigil::config
