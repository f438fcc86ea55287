// SPDX-License-Identifier: Apache-2.0
// Shell lines read: pasted prompts and comments stripped, assignments, builtin calls and
// their arguments split, variables resolved into term text, whether a line needs more input,
// and the builtins' names and help.
#include "vigil/ctl/shell_parse.hpp"

#include "vigil/ctl/shell_detail.hpp"
#include "vigil/ctl/term_text.hpp"
#include "vigil/term/text_chars.hpp"

#include <algorithm>
#include <optional>
#include <utility>

namespace vigil::ctl {
namespace {

using detail::trim;

bool is_lower_start(char c) {
  return (c >= 'a' && c <= 'z') || c == '_';
}

// A pasted iex or vigil prompt, "iex(12)> ", at the start of `line`.
std::string_view strip_prompt(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] >= 'a' && line[i] <= 'z') {
    ++i;
  }
  if (i == 0 || i >= line.size() || line[i] != '(') {
    return line;
  }
  std::size_t close = line.find(")>", i);
  if (close == std::string_view::npos || close == i + 1
      || line.substr(i + 1, close - i - 1).find_first_not_of("0123456789")
             != std::string_view::npos) {
    return line;
  }
  return line.substr(close + 2);
}

// `line` up to a `#` comment. `#` followed by an uppercase letter starts `#PID<...>`.
std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"' || line[i] == '\'') {
      std::size_t end = text_chars::quoted_close(line, i);
      if (end == std::string_view::npos) {
        return line;
      }
      i = end - 1;
    } else if (line[i] == '#'
               && !(i + 1 < line.size() && line[i + 1] >= 'A' && line[i + 1] <= 'Z')) {
      return line.substr(0, i);
    }
  }
  return line;
}

// `name = expr`: the variable and the expression, or nullopt for a line that assigns nothing.
result<std::optional<std::pair<std::string, std::string_view>>, std::string>
split_assignment(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size()
         && (is_lower_start(line[i]) || (line[i] >= 'A' && line[i] <= 'Z')
             || (line[i] >= '0' && line[i] <= '9') || line[i] == '?' || line[i] == '!'
             || line[i] == '@')) {
    ++i;
  }
  std::string_view name = line.substr(0, i);
  std::string_view rest = trim(line.substr(i));
  bool assigns = !name.empty() && rest.size() >= 1 && rest[0] == '='
                 && !(rest.size() >= 2 && (rest[1] == '=' || rest[1] == '>' || rest[1] == '~'));
  if (!assigns || !is_identifier(name)) {
    return std::optional<std::pair<std::string, std::string_view>>();
  }
  if (!is_variable_name(name)) {
    return "(CompileError) cannot assign to \"" + std::string(name) + "\"";
  }
  return std::optional(std::pair(std::string(name), trim(rest.substr(1))));
}

// The end of a callee name at the start of `expr`: `send`, `Process.alive?`,
// `:observer.start`; 0 when none starts there.
std::size_t scan_callee(std::string_view expr) {
  std::size_t i = expr.starts_with(':') ? 1 : 0;
  std::size_t start = i;
  for (;;) {
    std::size_t name_start = i;
    while (i < expr.size()
           && (is_lower_start(expr[i]) || (expr[i] >= 'A' && expr[i] <= 'Z')
               || (expr[i] >= '0' && expr[i] <= '9') || expr[i] == '@')) {
      ++i;
    }
    if (i == name_start || (expr[name_start] >= '0' && expr[name_start] <= '9')) {
      return name_start == start ? 0 : name_start - 1;
    }
    if (i < expr.size() && (expr[i] == '?' || expr[i] == '!')) {
      ++i;
    }
    if (i + 1 < expr.size() && expr[i] == '.' && !(expr[i + 1] >= '0' && expr[i + 1] <= '9')) {
      ++i;
      continue;
    }
    return i;
  }
}

// The arguments after a callee: "(a, b)", " a, b" or nothing; nullopt when `rest` is not an
// argument list (so the line is a term).
result<std::optional<std::vector<std::string>>, std::string>
parse_call_args(std::string_view rest) {
  using args = std::optional<std::vector<std::string>>;
  if (rest.empty()) {
    return args(std::vector<std::string>());
  }
  if (rest[0] == '(') {
    std::size_t close = detail::matching_paren(rest);
    if (close == std::string_view::npos) {
      return std::string("(SyntaxError) missing ')'");
    }
    if (!trim(rest.substr(close + 1)).empty()) {
      return "(SyntaxError) unexpected '" + std::string(trim(rest.substr(close + 1))) + "'";
    }
    auto parts = split_arguments(rest.substr(1, close - 1));
    if (!parts) {
      return parts.error();
    }
    return args(std::move(*parts));
  }
  if (rest[0] != ' ' && rest[0] != '\t') {
    return args();
  }
  auto parts = split_arguments(trim(rest));
  if (!parts) {
    return parts.error();
  }
  return args(std::move(*parts));
}

// A line with no call of a builtin: a variable, or a term.
result<shell_action, std::string> evaluate_term(std::string_view expr, const shell_context& ctx) {
  if (is_identifier(expr) && is_lower_start(expr[0]) && expr != "true" && expr != "false"
      && expr != "nil" && !ctx.variables.contains(expr)) {
    return "(CompileError) undefined function or variable \"" + std::string(expr)
           + "\" (type h for help)";
  }
  auto value = detail::resolve_term(expr, ctx);
  if (!value) {
    return value.error().text;
  }
  shell_action action;
  action.op = shell_op::value;
  action.value = std::move(*value);
  return action;
}

result<shell_action, std::string> evaluate(std::string_view expr, const shell_context& ctx) {
  std::size_t end = scan_callee(expr);
  if (end > 0) {
    std::string_view name = expr.substr(0, end);
    const detail::builtin* fn = detail::find_builtin(name);
    if (fn != nullptr
        && !(is_identifier(name) && ctx.variables.contains(name) && end == expr.size())) {
      auto args = parse_call_args(expr.substr(end));
      if (!args) {
        return args.error();
      }
      if (args->has_value()) {
        return detail::call_builtin(*fn, **args, ctx);
      }
    }
  }
  return evaluate_term(expr, ctx);
}

// Pushes the closer an opening bracket `c` expects, or pops the one a closing bracket
// matches; false when `c` closes a bracket that is not open.
bool track_bracket(char c, std::string& closers) {
  if (c == '(' || c == '[' || c == '{') {
    closers += c == '(' ? ')' : c == '[' ? ']' : '}';
  } else if (c == ')' || c == ']' || c == '}') {
    if (closers.empty() || closers.back() != c) {
      return false;
    }
    closers.pop_back();
  }
  return true;
}

} // namespace

result<std::vector<std::string>, std::string> split_arguments(std::string_view text) {
  std::vector<std::string> parts;
  text = trim(text);
  if (text.empty()) {
    return parts;
  }
  std::string closers;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"' || c == '\'') {
      std::size_t end = text_chars::quoted_close(text, i);
      if (end == std::string_view::npos) {
        return std::string("(SyntaxError) missing terminator: ") + c;
      }
      i = end - 1;
    } else if (!track_bracket(c, closers)) {
      return std::string("(SyntaxError) unexpected '") + c + "'";
    } else if (c == ',' && closers.empty()) {
      parts.emplace_back(trim(text.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (!closers.empty()) {
    return std::string("(SyntaxError) missing '") + closers.back() + "'";
  }
  parts.emplace_back(trim(text.substr(start)));
  return parts;
}

result<shell_action, std::string> translate_line(std::string_view line, const shell_context& ctx) {
  line = trim(strip_comment(strip_prompt(trim(line))));
  if (line.empty()) {
    return shell_action{};
  }
  auto assignment = split_assignment(line);
  if (!assignment) {
    return assignment.error();
  }
  std::string_view expr = *assignment ? (*assignment)->second : line;
  if (expr.empty()) {
    return std::string("(SyntaxError) expected an expression after '='");
  }
  auto action = evaluate(expr, ctx);
  if (action && *assignment) {
    if (action->op != shell_op::value && action->op != shell_op::call
        && action->op != shell_op::sleep) {
      return std::string("(CompileError) nothing to assign");
    }
    action->bind = (*assignment)->first;
  }
  return action;
}

} // namespace vigil::ctl

namespace vigil::ctl::detail {

std::string_view trim(std::string_view text) noexcept {
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  std::size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::size_t matching_paren(std::string_view text) noexcept {
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"' || c == '\'') {
      std::size_t end = text_chars::quoted_close(text, i);
      if (end == std::string_view::npos) {
        return end;
      }
      i = end - 1;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if ((c == ')' || c == ']' || c == '}') && --depth == 0) {
      return c == ')' ? i : std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

result<std::string, failure> resolve_term(std::string_view arg, const shell_context& ctx) {
  std::string undefined;
  auto normal = resolve_term_text(arg, [&](std::string_view name) {
    if (name == "self") {
      return std::optional<std::string>(ctx.self);
    }
    if (auto it = ctx.variables.find(name); it != ctx.variables.end()) {
      return std::optional<std::string>(it->second);
    }
    if (undefined.empty() && is_lower_start(name[0]) && name != "true" && name != "false"
        && name != "nil") {
      undefined = name;
    }
    return std::optional<std::string>();
  });
  if (!undefined.empty()) {
    return failure{"(CompileError) undefined variable \"" + undefined
                   + "\" (atoms are written :" + undefined + ")"};
  }
  if (!normal) {
    return failure{"(SyntaxError) " + normal.error().to_string()};
  }
  return std::move(*normal);
}

} // namespace vigil::ctl::detail

namespace vigil::ctl {

bool needs_more_input(std::string_view text) {
  int open = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '#' && !(i + 1 < text.size() && text[i + 1] >= 'A' && text[i + 1] <= 'Z')) {
      i = std::min(text.find('\n', i), text.size()); // a comment runs to the end of its line
      continue;
    }
    if (c == '"' || c == '\'') {
      std::size_t close = text_chars::quoted_close(text, i);
      if (close == std::string_view::npos) {
        return true;
      }
      i = close - 1;
    } else if (c == '(' || c == '[' || c == '{') {
      ++open;
    } else if (c == ')' || c == ']' || c == '}') {
      if (--open < 0) {
        return false;
      }
    }
  }
  return open > 0;
}

std::vector<std::string> builtin_names() {
  return detail::builtin_names_list();
}

std::string shell_help() {
  return R"(vigilctl shell: iex's process functions, run inside vigild. Each line is one of:
  self                       this shell's own process (its session in vigild)
  pid = spawn(:echo)         start an unsupervised process of a worker kind; spawn(:kind, args)
  send(pid, {self, :ok})     send a message; prints the message
  flush                      print and remove every message this shell has received, then :ok
  receive / receive 1000     wait for one message (default 5000 ms); :timeout if none came
  Process.alive?(pid)        true or false
  Process.exit(pid, :kill)   send an exit signal; Process.exit(self, :exit) restarts the shell
  Process.info(pid)          what the process is doing; Process.info(pid, :messages)
  Process.sleep(1000)        wait here; :timer.sleep(1000) too
  Process.registered         registered names; Process.whereis(:echo) finds one
  :observer.start            print the supervision tree
  x = <expression>           bind a variable; later terms may use it: send(x, {self, :ping})
  any term                   printed back: {:ok, [1, 2]}, %{key: "value"}, #PID<0.74.0>
  h, help                    this text
  exit, Ctrl-D               leave
Targets are pids, :registered_names, worker names (echo) or paths ("root/pool/worker_1").
Pasted iex prompts ("iex(3)> ") and # comments are ignored.
)";
}

} // namespace vigil::ctl
