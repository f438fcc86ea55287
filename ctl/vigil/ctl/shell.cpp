// SPDX-License-Identifier: Apache-2.0
// shell_session, the `vigilctl shell` loop: each line evaluated as a builtin call or a term,
// performed over the connection, its reply presented as iex would, and names completed.
#include "vigil/ctl/shell.hpp"

#include "vigil/ctl/iex_format.hpp"
#include "vigil/ctl/render.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <limits>
#include <ostream>
#include <thread>
#include <utility>

namespace vigil::ctl {
namespace {

constexpr std::size_t no_wrap = std::numeric_limits<std::size_t>::max();

const json& member(const json& object, const char* key) {
  static const json missing;
  if (!object.is_object()) {
    return missing;
  }
  auto it = object.find(key);
  return it == object.end() ? missing : *it;
}

shell_output same(const std::string& value) {
  return {value + "\n", value};
}

shell_output present_list(const json& items) {
  std::vector<std::string> texts;
  if (items.is_array()) {
    for (const json& item : items) {
      texts.push_back(json_as_term(item));
    }
  }
  return {wrap_items("[", texts, "]", 80) + "\n", wrap_items("[", texts, "]", no_wrap)};
}

shell_output present_info(const json& info) {
  if (!info.is_object()) {
    return same("nil");
  }
  return {keyword_list(info, 80) + "\n", keyword_list(info, no_wrap)};
}

shell_output present_info_key(const json& info, const std::string& key) {
  const json& value = member(info, key.c_str());
  if (!info.is_object() || !info.contains(key)) {
    return same("nil");
  }
  return same("{:" + key + ", " + json_as_term(value) + "}");
}

shell_output present_whereis(const json& names, const std::string& name) {
  if (names.is_array()) {
    for (const json& entry : names) {
      std::string entry_name = string_field(entry, "name");
      if (entry_name == name || entry_name == ":" + name) {
        return same(cell_text(member(entry, "pid")));
      }
    }
  }
  return same("nil");
}

shell_output present_flush(const json& messages) {
  std::string display;
  if (messages.is_array()) {
    for (const json& message : messages) {
      display += json_as_term(message) + "\n";
    }
  }
  return {display + ":ok\n", ":ok"};
}

} // namespace

shell_output present_reply(const shell_action& action, const json& result) {
  switch (action.style) {
  case reply_style::sent: return same(action.value);
  case reply_style::flush: return present_flush(member(result, "messages"));
  case reply_style::pid: return same(cell_text(member(result, "pid")));
  case reply_style::alive: return same(member(result, "alive") == true ? "true" : "false");
  case reply_style::exited: return same("true");
  case reply_style::info: return present_info(member(result, "info"));
  case reply_style::info_key: return present_info_key(member(result, "info"), action.value);
  case reply_style::received: {
    const json& message = member(result, "message");
    return same(message.is_null() ? ":timeout" : json_as_term(message));
  }
  case reply_style::tree: return {render_tree(result) + ":ok\n", ":ok"};
  case reply_style::registered: {
    json names = json::array();
    for (const json& entry : member(result, "names")) {
      names.push_back(member(entry, "name"));
    }
    return present_list(names);
  }
  case reply_style::whereis: return present_whereis(member(result, "names"), action.value);
  }
  return same("nil");
}

shell_session::shell_session(client c, shell_options opts, std::ostream& out, std::ostream& err)
    : client_(std::move(c)), opts_(std::move(opts)), out_(out), err_(err) {}

result<void, ctl_error> shell_session::start() {
  auto reply = client_.call("hello", json::object(), opts_.timeout);
  if (!reply) {
    return reply.error();
  }
  std::string self = string_field(*reply, "self");
  if (self.empty()) {
    return protocol_error("hello reply has no 'self' pid");
  }
  ctx_.self = std::move(self);
  hello_ = std::move(*reply);
  return {};
}

bool shell_session::eval(std::string_view line) {
  auto action = translate_line(line, ctx_);
  if (!action) {
    err_ << "** " << action.error() << '\n';
    failed_ = true;
    return true;
  }
  switch (action->op) {
  case shell_op::nothing: return true;
  case shell_op::quit: return false;
  case shell_op::help: out_ << shell_help(); return true;
  case shell_op::value: show(*action, same(action->value)); return true;
  case shell_op::sleep:
    out_.flush();
    std::this_thread::sleep_for(action->duration);
    show(*action, same(":ok"));
    return true;
  case shell_op::call: return action->exits_self ? exit_self(*action) : perform(*action);
  }
  return true;
}

int shell_session::exit_status() const noexcept {
  if (lost_status_ != 0) {
    return lost_status_;
  }
  return failed_ && !opts_.interactive ? static_cast<int>(exit_code::daemon_error) : 0;
}

bool shell_session::perform(const shell_action& action) {
  auto reply = client_.call(action.cmd, action.args, opts_.timeout + action.duration);
  if (!reply) {
    const ctl_error& e = reply.error();
    if (e.exit != exit_code::daemon_error && e.exit != exit_code::usage) {
      return fail_connection(e);
    }
    bool dead = e.code == "not_found"
                && (action.style == reply_style::info || action.style == reply_style::info_key);
    if (dead) {
      show(action, same("nil")); // Process.info of a dead pid is nil in iex
    } else {
      err_ << "** (" << e.code << ") " << e.message << '\n';
      failed_ = true;
    }
    return true;
  }
  if (opts_.json) {
    out_ << dump_json(*reply) << '\n';
  }
  show(action, present_reply(action, *reply));
  return true;
}

// Process.exit(self, reason): if the session process died, the daemon has a new one for a
// new connection, as iex restarts with a new pid.
bool shell_session::exit_self(const shell_action& action) {
  std::string old_self = ctx_.self;
  auto reply = client_.call(action.cmd, action.args, opts_.timeout);
  if (!reply && reply.error().exit == exit_code::daemon_error) {
    err_ << "** (" << reply.error().code << ") " << reply.error().message << '\n';
    failed_ = true;
    return true;
  }
  bool dead = !reply;
  if (!dead) {
    auto alive = client_.call("alive", {{"target", old_self}}, opts_.timeout);
    dead = !alive || member(*alive, "alive") != true;
  }
  if (!dead) {
    show(action, same("true"));
    return true;
  }
  out_ << "** (EXIT from " << old_self << ") " << string_field(action.args, "reason") << "\n\n";
  if (!opts_.reconnect) {
    return fail_connection(connect_error("the shell's session process exited"));
  }
  auto fresh = opts_.reconnect();
  if (!fresh) {
    return fail_connection(fresh.error());
  }
  client_ = std::move(*fresh);
  if (auto started = start(); !started) {
    return fail_connection(started.error());
  }
  return true;
}

bool shell_session::fail_connection(const ctl_error& e) {
  err_ << "vigilctl: fatal: " << e.message << '\n';
  lost_status_ = e.exit_status();
  return false;
}

void shell_session::show(const shell_action& action, const shell_output& output) {
  if (!opts_.json) {
    out_ << output.display;
  } else if (action.op != shell_op::call) {
    out_ << dump_json(json{{"value", output.value}}) << '\n';
  }
  if (!action.bind.empty()) {
    ctx_.variables[action.bind] = output.value;
  }
}

std::vector<std::string> shell_session::completions(std::string_view prefix) {
  std::vector<std::string> all = builtin_names();
  all.emplace_back("self");
  for (const auto& [name, value] : ctx_.variables) {
    all.push_back(name);
  }
  if (auto names = client_.call("registered", json::object(), opts_.timeout)) {
    for (const json& entry : member(*names, "names")) {
      std::string name = string_field(entry, "name");
      all.push_back(name.starts_with(':') ? name : ":" + name);
    }
  }
  if (auto rows = client_.call("status", json::object(), opts_.timeout)) {
    for (const json& row : member(*rows, "workers")) {
      all.push_back(string_field(row, "id"));
      all.push_back(string_field(row, "path"));
      if (std::string p = cell_text(member(row, "pid")); p.starts_with("#PID<")) {
        all.push_back(p);
      }
    }
  }
  std::erase_if(all, [&](const std::string& c) { return c.empty() || !c.starts_with(prefix); });
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

int run_shell(shell_session& session, const line_reader& read, std::ostream& out) {
  if (session.interactive()) {
    const json& hello = session.hello();
    out << fmt::format("vigilctl shell on {} {} (protocol {}); self is {}.\n"
                       "Type h for help, exit or Ctrl-D to leave.\n",
                       string_field(hello, "daemon", "vigild"), string_field(hello, "version", "?"),
                       cell_text(member(hello, "protocol")), session.context().self);
  }
  std::size_t counter = 1;
  std::string pending; // the lines of an expression still open
  for (;;) {
    std::string prompt;
    if (session.interactive()) {
      prompt =
          pending.empty() ? fmt::format("vigil({})> ", counter) : fmt::format("...({})> ", counter);
    }
    out.flush();
    auto line = read(prompt);
    if (!line) {
      if (session.interactive()) {
        out << '\n';
      }
      break;
    }
    if (*line == cancelled_line) {
      pending.clear(); // Ctrl-C drops the line and any open expression; the shell goes on
      continue;
    }
    pending += pending.empty() ? *line : "\n" + *line;
    if (needs_more_input(pending)) {
      continue;
    }
    ++counter;
    std::string text = std::exchange(pending, {});
    if (!session.eval(text)) {
      break;
    }
  }
  if (!pending.empty()) {
    (void)session.eval(pending); // input ended inside an expression: its error is shown
  }
  out.flush();
  return session.exit_status();
}

} // namespace vigil::ctl
