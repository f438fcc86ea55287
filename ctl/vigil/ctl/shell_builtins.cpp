// SPDX-License-Identifier: Apache-2.0
// The functions `vigilctl shell` knows, each translated into a protocol request or a local
// action. The spelling is iex's, so that the blog's lines run as they are written.
#include "vigil/ctl/duration.hpp"
#include "vigil/ctl/shell_detail.hpp"
#include "vigil/ctl/term_text.hpp"
#include "vigil/term/text.hpp"

#include <array>
#include <utility>

namespace vigil::ctl::detail {
namespace {

using action_result = result<shell_action, std::string>;
using args_t = std::vector<std::string>;

shell_action call_action(std::string cmd, json args, reply_style style) {
  shell_action action;
  action.op = shell_op::call;
  action.cmd = std::move(cmd);
  action.args = std::move(args);
  action.style = style;
  return action;
}

shell_action local_action(shell_op op) {
  shell_action action;
  action.op = op;
  return action;
}

bool is_unbound_identifier(std::string_view arg, const shell_context& ctx) {
  return is_identifier(arg) && !ctx.variables.contains(arg) && arg != "self";
}

// A process to act on: a pid, `self`, a registered `:name`, or a worker name or path.
// A bare identifier that is no variable names a worker, as `vigilctl info echo` does.
result<std::string, failure> resolve_target(std::string_view arg, const shell_context& ctx) {
  if (is_unbound_identifier(arg, ctx)) {
    return std::string(arg);
  }
  auto text = resolve_term(arg, ctx);
  if (!text) {
    return text.error();
  }
  auto t = parse_term(*text);
  if (t && (t->is_pid() || t->is_atom())) {
    return *text;
  }
  if (t && t->is_string()) {
    return std::string(t->as_string());
  }
  return failure{"(ArgumentError) expected a pid or a name, got: " + *text};
}

// A plain name: a worker kind, a registered name, an info key (`:echo`, `"echo"`, `echo`).
result<std::string, failure> resolve_name(std::string_view arg, const shell_context& ctx) {
  if (is_unbound_identifier(arg, ctx)) {
    return std::string(arg);
  }
  auto text = resolve_term(arg, ctx);
  if (!text) {
    return text.error();
  }
  auto t = parse_term(*text);
  if (t && t->is_atom()) {
    return std::string(t->as_atom().name());
  }
  if (t && t->is_string()) {
    return std::string(t->as_string());
  }
  return failure{"(ArgumentError) expected an atom, got: " + *text};
}

// A time in milliseconds: an integer term ("1000", a variable) or a duration ("1s").
result<std::chrono::milliseconds, failure> resolve_ms(std::string_view arg,
                                                      const shell_context& ctx) {
  if (auto d = parse_duration(arg)) {
    return *d;
  }
  auto text = resolve_term(arg, ctx);
  if (!text) {
    return text.error();
  }
  auto t = parse_term(*text);
  if (t && t->is_integer() && t->as_integer() >= 0) {
    return std::chrono::milliseconds(t->as_integer());
  }
  return failure{"(ArgumentError) expected a time in milliseconds, got: " + *text};
}

action_result self_fn(const args_t& /*args*/, const shell_context& ctx) {
  shell_action action = local_action(shell_op::value);
  action.value = ctx.self;
  return action;
}

action_result send_fn(const args_t& args, const shell_context& ctx) {
  auto target = resolve_target(args[0], ctx);
  if (!target) {
    return target.error().text;
  }
  auto message = resolve_term(args[1], ctx);
  if (!message) {
    return message.error().text;
  }
  shell_action action =
      call_action("send", {{"target", *target}, {"term", *message}}, reply_style::sent);
  action.value = std::move(*message);
  return action;
}

action_result flush_fn(const args_t& /*args*/, const shell_context& /*ctx*/) {
  return call_action("flush", json::object(), reply_style::flush);
}

action_result spawn_fn(const args_t& args, const shell_context& ctx) {
  if (args.size() == 3) {
    return std::string("(ArgumentError) vigil spawns worker kinds, not modules: "
                       "spawn(:echo) or spawn(:echo, args)");
  }
  if (args[0].starts_with("fn ") || args[0].starts_with("fn->")) {
    return std::string("(ArgumentError) the shell runs no Elixir functions: spawn a worker "
                       "kind, as in spawn(:echo)");
  }
  auto kind = resolve_name(args[0], ctx);
  if (!kind) {
    return kind.error().text;
  }
  json request = {{"kind", *kind}};
  if (args.size() == 2) {
    auto spawn_args = resolve_term(args[1], ctx);
    if (!spawn_args) {
      return spawn_args.error().text;
    }
    request["args"] = *spawn_args;
  }
  return call_action("spawn", std::move(request), reply_style::pid);
}

// Process.alive?/1, Process.info/1 and Process.registered/0 style requests on one target.
action_result alive_fn(const args_t& args, const shell_context& ctx) {
  auto target = resolve_target(args[0], ctx);
  if (!target) {
    return target.error().text;
  }
  return call_action("alive", {{"target", *target}}, reply_style::alive);
}

action_result exit_fn(const args_t& args, const shell_context& ctx) {
  auto target = resolve_target(args[0], ctx);
  if (!target) {
    return target.error().text;
  }
  auto reason = resolve_term(args[1], ctx);
  if (!reason) {
    return reason.error().text;
  }
  shell_action action =
      call_action("kill", {{"target", *target}, {"reason", *reason}}, reply_style::exited);
  action.exits_self = *target == ctx.self;
  return action;
}

action_result info_fn(const args_t& args, const shell_context& ctx) {
  auto target = resolve_target(args[0], ctx);
  if (!target) {
    return target.error().text;
  }
  shell_action action = call_action("info", {{"target", *target}}, reply_style::info);
  if (args.size() == 2) {
    auto key = resolve_name(args[1], ctx);
    if (!key) {
      return key.error().text;
    }
    action.style = reply_style::info_key;
    action.value = std::move(*key);
  }
  return action;
}

action_result sleep_fn(const args_t& args, const shell_context& ctx) {
  auto ms = resolve_ms(args[0], ctx);
  if (!ms) {
    return ms.error().text;
  }
  shell_action action = local_action(shell_op::sleep);
  action.duration = *ms;
  return action;
}

action_result receive_fn(const args_t& args, const shell_context& ctx) {
  std::chrono::milliseconds timeout = default_receive_timeout;
  if (!args.empty()) {
    auto ms = resolve_ms(args[0], ctx);
    if (!ms) {
      return ms.error().text;
    }
    timeout = *ms;
  }
  shell_action action =
      call_action("receive", {{"timeout_ms", timeout.count()}}, reply_style::received);
  action.duration = timeout;
  return action;
}

action_result whereis_fn(const args_t& args, const shell_context& ctx) {
  auto name = resolve_name(args[0], ctx);
  if (!name) {
    return name.error().text;
  }
  shell_action action = call_action("registered", json::object(), reply_style::whereis);
  action.value = std::move(*name);
  return action;
}

action_result registered_fn(const args_t& /*args*/, const shell_context& /*ctx*/) {
  return call_action("registered", json::object(), reply_style::registered);
}

action_result observer_fn(const args_t& /*args*/, const shell_context& /*ctx*/) {
  return call_action("tree", json::object(), reply_style::tree);
}

action_result help_fn(const args_t& /*args*/, const shell_context& /*ctx*/) {
  return local_action(shell_op::help);
}

action_result quit_fn(const args_t& /*args*/, const shell_context& /*ctx*/) {
  return local_action(shell_op::quit);
}

action_result compile_fn(const args_t& /*args*/, const shell_context& /*ctx*/) {
  return std::string("(vigil) the shell compiles no code: workers are C++ kinds that "
                     "vigild knows; spawn one with spawn(:echo)");
}

constexpr std::array<builtin, 19> builtins{{
    {"self", 0, 0, self_fn},
    {"send", 2, 2, send_fn},
    {"flush", 0, 0, flush_fn},
    {"spawn", 1, 3, spawn_fn},
    {"Process.alive?", 1, 1, alive_fn},
    {"Process.exit", 2, 2, exit_fn},
    {"Process.info", 1, 2, info_fn},
    {"Process.sleep", 1, 1, sleep_fn},
    {":timer.sleep", 1, 1, sleep_fn},
    {"Process.whereis", 1, 1, whereis_fn},
    {"Process.registered", 0, 0, registered_fn},
    {"receive", 0, 1, receive_fn},
    {":observer.start", 0, 0, observer_fn},
    {"h", 0, 1, help_fn},
    {"help", 0, 1, help_fn},
    {"exit", 0, 1, quit_fn},
    {"c", 0, 2, compile_fn},
    {"r", 0, 1, compile_fn},
    {"recompile", 0, 0, compile_fn},
}};

} // namespace

std::vector<std::string> builtin_names_list() {
  std::vector<std::string> names;
  for (const builtin& fn : builtins) {
    names.emplace_back(fn.name);
  }
  return names;
}

const builtin* find_builtin(std::string_view name) noexcept {
  for (const builtin& fn : builtins) {
    if (fn.name == name) {
      return &fn;
    }
  }
  return nullptr;
}

action_result call_builtin(const builtin& fn, const args_t& args, const shell_context& ctx) {
  if (args.size() < fn.min_args || args.size() > fn.max_args) {
    return "(UndefinedFunctionError) function " + std::string(fn.name) + "/"
           + std::to_string(args.size()) + " is undefined (type h for help)";
  }
  return fn.build(args, ctx);
}

} // namespace vigil::ctl::detail
