// SPDX-License-Identifier: Apache-2.0
#pragma once

// The commands of the control protocol (docs/protocol.md), declared once: each command's name,
// the arguments it takes with their types, and a one-line summary. vigild validates every
// request against this table (`parse_request`); vigilctl takes its command names, its
// did-you-mean guesses and the summaries of its help, man page and completions from it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vigil::protocol {

/// Every command of docs/protocol.md, in the order of its table.
enum class command : std::uint8_t {
  hello,
  status,
  tree,
  info,
  alive,
  start,
  stop,
  restart,
  kill,
  send,
  flush,
  receive,
  spawn,
  logs,
  reload,
  events,
  registered,
  shutdown,
};

/// The JSON type an argument takes.
enum class arg_type : std::uint8_t {
  string,
  string_list, ///< an array of strings
  count,       ///< a non-negative integer
  boolean,
};

/// How an error message names `t`: "a string", "an array of strings", ...
[[nodiscard]] std::string_view type_phrase(arg_type t) noexcept;

/// One argument a command takes: a key of the request's `args` object.
struct argument {
  std::string_view key;
  arg_type type = arg_type::string;
  bool required = false;
};

/// Where a user meets a command.
enum class reach : std::uint8_t {
  cli,   ///< a vigilctl command of the same name (and the shell, where it has a builtin)
  shell, ///< only through the shell's builtins (self(), flush, receive, Process.alive?)
};

/// A command as the protocol declares it.
struct command_info {
  command cmd;
  std::string_view name;
  std::array<argument, 3> arg_slots{};
  std::size_t arg_count = 0;
  /// One line, as vigilctl's help prints it.
  std::string_view summary;
  reach reached = reach::cli;

  [[nodiscard]] constexpr std::span<const argument> args() const noexcept {
    return std::span<const argument>(arg_slots).first(arg_count);
  }

  /// The argument named `key`, or null when the command takes none of that name.
  [[nodiscard]] const argument* find_arg(std::string_view key) const noexcept;
};

/// Every command, in the order of `command`.
[[nodiscard]] std::span<const command_info> command_table() noexcept;

[[nodiscard]] const command_info& info_of(command c) noexcept;
/// The command named `name`, or null.
[[nodiscard]] const command_info* find_command(std::string_view name) noexcept;

[[nodiscard]] std::string_view command_name(command c) noexcept;
[[nodiscard]] std::optional<command> command_from_name(std::string_view name) noexcept;

} // namespace vigil::protocol
