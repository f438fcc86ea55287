// SPDX-License-Identifier: Apache-2.0
#include "vigil/protocol/command_table.hpp"

namespace vigil::protocol {
namespace {

constexpr argument required(std::string_view key, arg_type type) {
  return {key, type, true};
}

constexpr argument optional(std::string_view key, arg_type type) {
  return {key, type, false};
}

constexpr command_info entry(command cmd, std::string_view name, std::string_view summary,
                             std::array<argument, 3> args = {}, std::size_t count = 0,
                             reach reached = reach::cli) {
  return {cmd, name, args, count, summary, reached};
}

using enum arg_type;

// The summaries are vigilctl's help lines; its man page and shell completions (docs/man/) are
// generated from them. The order is docs/protocol.md's, and vigilctl's help follows it.
constexpr std::array<command_info, 18> table{{
    entry(command::hello, "hello", "Greet the daemon: its version, protocol and the session's pid",
          {}, 0, reach::shell),
    entry(command::status, "status", "Show workers: state, pid, restarts, uptime",
          {optional("names", string_list)}, 1),
    entry(command::tree, "tree", "Show the supervision tree, as the observer does"),
    entry(command::info, "info", "Show what a process is doing, like Process.info",
          {required("target", string)}, 1),
    entry(command::alive, "alive", "Whether a process is alive, like Process.alive?",
          {required("target", string)}, 1, reach::shell),
    entry(command::start, "start", "Start a worker", {required("name", string)}, 1),
    entry(command::stop, "stop", "Stop a worker", {required("name", string)}, 1),
    entry(command::restart, "restart", "Restart a worker", {required("name", string)}, 1),
    entry(command::kill, "kill", "Send an exit signal to a process",
          {required("target", string), optional("reason", string)}, 2),
    entry(command::send, "send", "Send a message; self() is this command's session",
          {required("target", string), required("term", string), optional("await_ms", count)}, 3),
    entry(command::flush, "flush", "Take every message in the session's mailbox", {}, 0,
          reach::shell),
    entry(command::receive, "receive", "Wait for the session's next message",
          {optional("timeout_ms", count)}, 1, reach::shell),
    entry(command::spawn, "spawn", "Start an unsupervised process of a worker kind",
          {required("kind", string), optional("args", string), optional("detach", boolean)}, 3),
    entry(command::logs, "logs", "Show a worker's captured stdout and stderr",
          {required("name", string), optional("lines", count), optional("follow", boolean)}, 3),
    entry(command::reload, "reload", "Reload the config: only changed workers are touched",
          {optional("dry_run", boolean)}, 1),
    entry(command::events, "events", "Show recent events: starts, exits, restarts",
          {optional("follow", boolean), optional("last", count)}, 2),
    entry(command::registered, "registered", "List registered names"),
    entry(command::shutdown, "shutdown", "Stop the tree in reverse order and exit vigild"),
}};

// The table is indexed by `command`: each entry sits at its own enumerator.
constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (static_cast<std::size_t>(table[i].cmd) != i) {
      return false;
    }
  }
  return true;
}

static_assert(in_enum_order());

} // namespace

std::string_view type_phrase(arg_type t) noexcept {
  switch (t) {
  case arg_type::string: return "a string";
  case arg_type::string_list: return "an array of strings";
  case arg_type::count: return "a non-negative integer";
  case arg_type::boolean: return "true or false";
  }
  return "?";
}

const argument* command_info::find_arg(std::string_view key) const noexcept {
  for (const argument& a : args()) {
    if (a.key == key) {
      return &a;
    }
  }
  return nullptr;
}

std::span<const command_info> command_table() noexcept {
  return table;
}

const command_info& info_of(command c) noexcept {
  return table[static_cast<std::size_t>(c)];
}

const command_info* find_command(std::string_view name) noexcept {
  for (const command_info& c : table) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

std::string_view command_name(command c) noexcept {
  return info_of(c).name;
}

std::optional<command> command_from_name(std::string_view name) noexcept {
  const command_info* c = find_command(name);
  return c != nullptr ? std::optional<command>(c->cmd) : std::nullopt;
}

} // namespace vigil::protocol
