// SPDX-License-Identifier: Apache-2.0
// The observer's endpoints (routes.hpp): the page, the tree as JSON, /metrics, the kill
// action, and the endpoints that run the daemon's own commands (restart, stop, start, info,
// logs). /api/events (pushed events) is held open by http_server.cpp itself.
#include "routes.hpp"

#include "bundle.hpp"
#include "command_call.hpp"
#include "metrics.hpp"
#include "page.hpp"
#include "state.hpp"
#include "tree_snapshot.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

namespace vigil::observer {
namespace {

using json = nlohmann::json;

http_response text(unsigned status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

http_response json_response(unsigned status, const json& j) {
  return {status, "application/json",
          j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

/// The value of `name=` in the query of `target` (percent-decoded), or empty.
std::string query_value(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) {
    return {};
  }
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      std::string out;
      std::string_view v = pair.substr(name.size() + 1);
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1]))
            && std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
          out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
          i += 2;
        } else {
          out += v[i] == '+' ? ' ' : v[i];
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return {};
}

json pid_or_null(const std::optional<pid>& p) {
  return p ? json(to_string(term(*p))) : json(nullptr);
}

template <class T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

const char* decision_name(supervision::exit_report::decision d) {
  using decision = supervision::exit_report::decision;
  switch (d) {
  case decision::none: return "none";
  case decision::restart: return "restart";
  case decision::backoff: return "backoff";
  case decision::failed: return "failed";
  case decision::escalate: return "escalate";
  }
  return "none";
}

/// The tree as the page draws it: every child with what `status` shows and its history.
http_response tree(const daemon::daemon_state& st) {
  const auto snap = take_snapshot(st, true);
  json children = json::array();
  for (const auto& c : snap.children) {
    json history = json::array();
    for (const auto& h : c.history) {
      history.push_back({{"ago_ms", snap.now_ms - h.at_ms},
                         {"decision", decision_name(h.what)},
                         {"reason", h.reason}});
    }
    children.push_back({{"path", c.path},
                        {"id", c.id},
                        {"kind", c.kind},
                        {"type", c.type},
                        {"state", c.state},
                        {"pid", pid_or_null(c.process)},
                        {"restarts", c.restarts},
                        {"uptime_ms", or_null(c.uptime_ms)},
                        {"os_child", c.os_child},
                        {"os_pid", or_null(c.os_pid)},
                        {"rss_kb", or_null(c.rss_kb)},
                        {"cpu_ms", or_null(c.cpu_ms)},
                        {"last_exit_reason", c.last_exit_reason},
                        {"history", std::move(history)}});
  }
  return json_response(200, json{{"children", std::move(children)}});
}

/// Why an action (a POST that changes the tree) is refused, or nothing when it may run:
/// the listener must grant actions, and the request must carry the header a forged
/// cross-site form cannot.
std::optional<http_response> refused_action(const http_request& req, access allowed) {
  if (!allowed.act) {
    return json_response(403, {{"error", "this listener serves reads only (set a token)"}});
  }
  if (!req.action_header) {
    return json_response(403, {{"error", "missing X-Vigil-Action: 1"}});
  }
  return std::nullopt;
}

/// POST /api/kill?path=root/x: what `vigilctl kill` does to a child of the tree, and only
/// to one (no pid or registered name: the page names children by path).
http_response kill(daemon::daemon_state& st, const http_request& req, access allowed) {
  if (auto no = refused_action(req, allowed)) {
    return *no;
  }
  const std::string path = query_value(req.target, "path");
  auto child = st.index.at(path);
  if (!child) {
    return json_response(404, {{"error", "no child at '" + path + "'"}});
  }
  if (!child->process) {
    return json_response(409, {{"error", "'" + path + "' is not running"}});
  }
  spdlog::info("observer: kill {} {}", path, to_string(term(*child->process)));
  st.rt.exit(*child->process, atoms::kill);
  return json_response(200, {{"killed", to_string(term(*child->process))}, {"path", path}});
}

unsigned http_status(protocol::error_code code) {
  using protocol::error_code;
  switch (code) {
  case error_code::not_found: return 404;
  case error_code::invalid_argument: return 400;
  case error_code::unauthorized:
  case error_code::protected_process: return 403;
  case error_code::shutting_down: return 503;
  default: return 409;
  }
}

/// The command an endpoint runs, or nothing for a path that runs none.
std::optional<protocol::command> command_of(std::string_view path) {
  using protocol::command;
  if (path == "/api/restart") {
    return command::restart;
  }
  if (path == "/api/stop") {
    return command::stop;
  }
  if (path == "/api/start") {
    return command::start;
  }
  if (path == "/api/info") {
    return command::info;
  }
  if (path == "/api/logs") {
    return command::logs;
  }
  return std::nullopt;
}

/// The most log lines one request may ask for (the store keeps fewer per child anyway).
constexpr std::int64_t max_log_lines = 1000;

} // namespace

bool route_command(daemon::daemon_state& st, const http_request& req, access allowed,
                   const reply_fn& reply) {
  using protocol::command;
  const auto cmd = command_of(path_of(req.target));
  if (!cmd) {
    return false;
  }
  const bool reads = *cmd == command::info || *cmd == command::logs;
  if (reads ? req.method != "GET" : req.method != "POST") {
    reply(text(405, "method not allowed\n"));
    return true;
  }
  if (!reads) {
    if (auto no = refused_action(req, allowed)) {
      reply(*no);
      return true;
    }
  } else if (!allowed.act) {
    // A process's messages and its logs are what `vigilctl info` and `logs` show to the
    // control socket's users only: not to any local user of a token-less TCP listener.
    reply(json_response(403, {{"error", "this listener serves the tree and metrics only "
                                        "(set a token)"}}));
    return true;
  }
  protocol::request r;
  r.cmd = *cmd;
  r.target = query_value(req.target, "path");
  if (r.target.empty()) {
    reply(json_response(400, {{"error", "no ?path= given"}}));
    return true;
  }
  if (*cmd == command::logs) {
    const std::string lines = query_value(req.target, "lines");
    std::int64_t n = 50;
    if (!lines.empty()) {
      n = std::clamp<std::int64_t>(std::strtoll(lines.c_str(), nullptr, 10), 1, max_log_lines);
    }
    r.count = n;
  }
  if (!reads) {
    // Quoted and escaped as JSON: the path is the client's, and a %0A in it must not start
    // a line of vigild's log that looks like its own.
    spdlog::info("observer: {} {}", protocol::command_name(*cmd),
                 json(r.target).dump(-1, ' ', false, json::error_handler_t::replace));
  }
  auto called =
      daemon::call_command(st, std::move(r), allowed.uid, [reply](daemon::command_answer a) {
        if (a.ok) {
          reply({200, "application/json", std::move(a.text) + "\n"});
        } else {
          reply(json_response(http_status(a.code), {{"error", std::move(a.text)}}));
        }
      });
  if (!called) {
    reply(json_response(503, {{"error", "cannot run the command: " + called.error().context}}));
  }
  return true;
}

http_response route(daemon::daemon_state& st, const event_counters& counters,
                    const http_request& req, access allowed) {
  const std::string_view path = path_of(req.target);
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (path == "/metrics") {
    return get ? http_response{200, "text/plain; version=0.0.4; charset=utf-8",
                               render_metrics(st, counters)}
               : text(405, "method not allowed\n");
  }
  if (path == "/api/tree") {
    return get ? tree(st) : text(405, "method not allowed\n");
  }
  if (path == "/api/kill") {
    return req.method == "POST" ? kill(st, req, allowed) : text(405, "method not allowed\n");
  }
  if (path == "/vendor/uplot.js") {
    return get ? http_response{200, "text/javascript; charset=utf-8", std::string(uplot_js())}
               : text(405, "method not allowed\n");
  }
  if (path == "/vendor/uplot.css") {
    return get ? http_response{200, "text/css; charset=utf-8", std::string(uplot_css())}
               : text(405, "method not allowed\n");
  }
  if (path == "/" || path == "/index.html") {
    return get ? http_response{200, "text/html; charset=utf-8", std::string(observer_page())}
               : text(405, "method not allowed\n");
  }
  return text(404, "not found\n");
}

} // namespace vigil::observer
