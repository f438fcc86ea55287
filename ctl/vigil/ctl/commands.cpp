// SPDX-License-Identifier: Apache-2.0
// One vigilctl command run: its invocation turned into a request (term arguments checked as
// vigild will read them), sent, and the reply, event stream or error printed as text or JSON.
#include "vigil/ctl/commands.hpp"

#include "vigil/ctl/iex_format.hpp"
#include "vigil/ctl/render.hpp"
#include "vigil/ctl/socket_path.hpp"
#include "vigil/ctl/term_text.hpp"
#include "vigil/protocol/command_table.hpp"

#include <ostream>
#include <utility>

namespace vigil::ctl {
namespace {

// A term argument checked as the daemon will read it.
result<void, ctl_error> check_term(std::string_view what, const std::string& text) {
  auto checked = check_term_text(text);
  if (!checked) {
    return usage_error("invalid " + std::string(what) + " '" + text
                       + "': " + checked.error().to_string());
  }
  return {};
}

result<request, ctl_error> with_term(request req, std::string_view what, const char* key,
                                     const std::string& text) {
  if (auto checked = check_term(what, text); !checked) {
    return checked.error();
  }
  req.args[key] = text;
  return req;
}

result<request, ctl_error> send_request(const invocation& inv) {
  request req{"send", {{"target", inv.target}}};
  if (inv.await) {
    req.args["await_ms"] = inv.await->count();
    req.extra_wait = *inv.await;
  }
  return with_term(std::move(req), "TERM", "term", inv.term);
}

result<request, ctl_error> follow_request(const invocation& inv, std::string cmd,
                                          const char* count_key) {
  request req{std::move(cmd)};
  if (inv.command == "logs") {
    req.args["name"] = inv.target;
  }
  if (inv.lines) {
    req.args[count_key] = *inv.lines;
  }
  if (inv.follow) {
    req.args["follow"] = true;
  }
  return req;
}

std::string pid_text(const json& result) {
  auto it = result.find("pid");
  return it == result.end() ? "-" : cell_text(*it);
}

std::string render_action(const invocation& inv, const json& result) {
  const std::string& name = inv.target;
  bool unchanged = result.value("unchanged", false);
  if (inv.command == "start") {
    return name + (unchanged ? ": already running, " : ": started, ") + pid_text(result) + "\n";
  }
  if (inv.command == "restart") {
    return name + ": restarted, " + pid_text(result) + "\n";
  }
  if (inv.command == "stop") {
    return name + (unchanged ? ": already stopped\n" : ": stopped\n");
  }
  if (inv.command == "kill") {
    return name + ": sent exit signal " + (inv.term.empty() ? ":kill" : inv.term) + "\n";
  }
  if (inv.command == "spawn") {
    return pid_text(result) + "\n";
  }
  return "vigild: stopping\n"; // shutdown
}

std::string render_replies(const json& result) {
  std::string out;
  if (auto it = result.find("replies"); it != result.end() && it->is_array()) {
    for (const json& reply : *it) {
      out += json_as_term(reply) + "\n";
    }
  }
  return out;
}

// `--json` output. For logs on a terminal, every non-ASCII character is escaped as \uXXXX
// too: the same JSON, without the DEL and C1 controls that JSON lets through raw.
std::string json_line(const json& value, const invocation& inv) {
  if (inv.escape_logs && inv.command == "logs") {
    return value.dump(-1, ' ', true, json::error_handler_t::replace) + "\n";
  }
  return dump_json(value) + "\n";
}

// Prints events until the connection ends; `logs -f` prints its log events as log lines.
// A stream ends with status 0 when vigild said it was stopping (its last event to every
// follower) and then closed the connection; any other end is an error.
int follow_events(client& c, const invocation& inv, const global_options& opts, std::ostream& out,
                  std::ostream& err) {
  bool daemon_stopping = false;
  for (;;) {
    auto event = c.next_event(std::nullopt);
    if (!event) {
      if (daemon_stopping) {
        err << "vigilctl: vigild stopped; the stream has ended\n";
        return static_cast<int>(exit_code::ok);
      }
      report_error(event.error(), opts.json, out, err);
      return event.error().exit_status();
    }
    daemon_stopping = daemon_stopping || (*event)["event"] == "daemon_stopping";
    if (opts.json) {
      out << json_line(*event, inv);
    } else if (inv.command == "logs" && (*event)["event"] == "log") {
      out << render_log_line(*event, inv.escape_logs);
    } else {
      out << render_event(*event);
    }
    out.flush();
  }
}

} // namespace

result<request, ctl_error> make_request(const invocation& inv) {
  const std::string& cmd = inv.command;
  // The command's name and arguments are the protocol's (command_table.hpp); a command only
  // the shell reaches is no vigilctl command.
  const protocol::command_info* known = protocol::find_command(cmd);
  if (known == nullptr || known->reached != protocol::reach::cli) {
    return usage_error("unknown command '" + cmd + "'");
  }
  switch (known->cmd) {
  case protocol::command::status: {
    request req{cmd};
    if (!inv.names.empty()) {
      req.args["names"] = inv.names;
    }
    return req;
  }
  case protocol::command::tree:
  case protocol::command::shutdown:
  case protocol::command::registered: return request{cmd};
  case protocol::command::info: return request{cmd, {{"target", inv.target}}};
  case protocol::command::start:
  case protocol::command::stop:
  case protocol::command::restart: return request{cmd, {{"name", inv.target}}};
  case protocol::command::kill:
    return with_term(request{cmd, {{"target", inv.target}}}, "REASON", "reason",
                     inv.term.empty() ? std::string(":kill") : inv.term);
  case protocol::command::send: return send_request(inv);
  case protocol::command::logs: return follow_request(inv, cmd, "lines");
  case protocol::command::events: return follow_request(inv, cmd, "last");
  case protocol::command::reload: {
    request req{cmd};
    if (inv.dry_run) {
      req.args["dry_run"] = true;
    }
    return req;
  }
  case protocol::command::spawn: {
    // The command ends at once: what it spawns must outlive its session.
    request req{cmd, {{"kind", inv.target}, {"detach", true}}};
    return inv.term.empty() ? req : with_term(std::move(req), "ARGS", "args", inv.term);
  }
  case protocol::command::hello:
  case protocol::command::alive:
  case protocol::command::flush:
  case protocol::command::receive: break; // the shell's (reach::shell)
  }
  return usage_error("unknown command '" + cmd + "'");
}

std::string render_result(const invocation& inv, const json& result, bool colour) {
  const std::string& cmd = inv.command;
  if (cmd == "status") {
    return render_status(result, colour);
  }
  if (cmd == "tree") {
    return render_tree(result);
  }
  if (cmd == "info") {
    return render_info(result);
  }
  if (cmd == "send") {
    return render_replies(result);
  }
  if (cmd == "logs") {
    return render_logs(result, inv.escape_logs);
  }
  if (cmd == "events") {
    return render_events(result);
  }
  if (cmd == "reload") {
    return render_plan(result);
  }
  if (cmd == "registered") {
    return render_registered(result);
  }
  return render_action(inv, result);
}

void report_error(const ctl_error& e, bool json_output, std::ostream& out, std::ostream& err) {
  if (e.exit == exit_code::daemon_error) {
    err << "vigilctl: " << e.code << ": " << e.message << '\n';
  } else if (e.exit == exit_code::usage) {
    err << "vigilctl: usage: " << e.message << '\n';
  } else {
    err << "vigilctl: fatal: " << e.message << '\n';
  }
  if (json_output) {
    out << dump_json(json{{"error", {{"code", e.code}, {"message", e.message}}}}) << '\n';
  }
}

int run_command(client& c, const invocation& inv, const global_options& opts, std::ostream& out,
                std::ostream& err) {
  auto req = make_request(inv);
  if (!req) {
    report_error(req.error(), opts.json, out, err);
    return req.error().exit_status();
  }
  auto reply = c.call(req->cmd, req->args, opts.timeout + req->extra_wait);
  if (!reply) {
    report_error(reply.error(), opts.json, out, err);
    return reply.error().exit_status();
  }
  out << (opts.json ? json_line(*reply, inv) : render_result(inv, *reply, opts.colour));
  out.flush();
  if (inv.follow && (inv.command == "logs" || inv.command == "events")) {
    return follow_events(c, inv, opts, out, err);
  }
  if (inv.command == "reload" && reply->is_object() && reply->contains("warnings")
      && (*reply)["warnings"].is_array() && !(*reply)["warnings"].empty()) {
    // The plan was applied, but not all of it took: name each failure, and say so in the
    // exit code, so that a script does not take a half-applied reload for a good one.
    for (const auto& w : (*reply)["warnings"]) {
      err << "vigilctl: reload: " << (w.is_string() ? w.get<std::string>() : w.dump()) << '\n';
    }
    return static_cast<int>(exit_code::daemon_error);
  }
  return static_cast<int>(exit_code::ok);
}

result<client, ctl_error> connect_client(const global_options& opts) {
  return client::connect(resolve_socket(socket_env_from_process(opts.socket)));
}

int run(const invocation& inv, const global_options& opts, std::ostream& out, std::ostream& err) {
  // Bad arguments are reported before anything touches the socket.
  if (auto req = make_request(inv); !req) {
    report_error(req.error(), opts.json, out, err);
    return req.error().exit_status();
  }
  auto c = connect_client(opts);
  if (!c) {
    report_error(c.error(), opts.json, out, err);
    return c.error().exit_status();
  }
  return run_command(*c, inv, opts, out, err);
}

} // namespace vigil::ctl
