// SPDX-License-Identifier: Apache-2.0
// Control requests read (docs/protocol.md): the command table with each command's
// arguments, a JSON line parsed with its depth bounded and repeated keys caught, its
// arguments type-checked into a request; and replies written.
#include "vigil/daemon/request.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <limits>
#include <set>
#include <utility>
#include <vector>

namespace vigil::daemon {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 18> command_names{
    "hello", "status", "tree",    "info",  "alive", "start",  "stop",   "restart",    "kill",
    "send",  "flush",  "receive", "spawn", "logs",  "reload", "events", "registered", "shutdown"};

constexpr std::array<std::string_view, 10> error_names{
    "bad_request",      "too_large", "unsupported_version", "unknown_command",
    "invalid_argument", "not_found", "unauthorized",        "failed",
    "shutting_down",    "protected"};

/// Requests from outside are nested no deeper than term text may be.
constexpr int max_json_depth = 64;

enum class arg_type : std::uint8_t { string, string_list, count, boolean };

/// One argument a command takes, and where it lands in `request`.
struct arg_spec {
  std::string_view key;
  arg_type type;
  bool required;
  int slot; // see store_arg
};

enum slot : int {
  s_names,
  s_target,
  s_term,
  s_await,
  s_timeout,
  s_count,
  s_follow,
  s_dry_run,
  s_detach
};

struct command_spec {
  command cmd;
  std::array<arg_spec, 3> args;
  std::size_t arg_count;
};

constexpr arg_spec arg(std::string_view key, arg_type type, bool required, int s) {
  return {key, type, required, s};
}

constexpr std::array<command_spec, 18> command_specs{{
    {command::hello, {}, 0},
    {command::status, {arg("names", arg_type::string_list, false, s_names)}, 1},
    {command::tree, {}, 0},
    {command::info, {arg("target", arg_type::string, true, s_target)}, 1},
    {command::alive, {arg("target", arg_type::string, true, s_target)}, 1},
    {command::start, {arg("name", arg_type::string, true, s_target)}, 1},
    {command::stop, {arg("name", arg_type::string, true, s_target)}, 1},
    {command::restart, {arg("name", arg_type::string, true, s_target)}, 1},
    {command::kill,
     {arg("target", arg_type::string, true, s_target),
      arg("reason", arg_type::string, false, s_term)},
     2},
    {command::send,
     {arg("target", arg_type::string, true, s_target), arg("term", arg_type::string, true, s_term),
      arg("await_ms", arg_type::count, false, s_await)},
     3},
    {command::flush, {}, 0},
    {command::receive, {arg("timeout_ms", arg_type::count, false, s_timeout)}, 1},
    {command::spawn,
     {arg("kind", arg_type::string, true, s_target), arg("args", arg_type::string, false, s_term),
      arg("detach", arg_type::boolean, false, s_detach)},
     3},
    {command::logs,
     {arg("name", arg_type::string, true, s_target), arg("lines", arg_type::count, false, s_count),
      arg("follow", arg_type::boolean, false, s_follow)},
     3},
    {command::reload, {arg("dry_run", arg_type::boolean, false, s_dry_run)}, 1},
    {command::events,
     {arg("follow", arg_type::boolean, false, s_follow),
      arg("last", arg_type::count, false, s_count)},
     2},
    {command::registered, {}, 0},
    {command::shutdown, {}, 0},
}};

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The deepest nesting of arrays and objects in `text`, counted outside strings. A cheap
/// check before parsing, so no deep document is ever built.
int nesting_depth(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

/// What parse_checked found about repeated keys.
struct key_check {
  /// The first key that appears twice in one object, at any depth.
  std::optional<std::string> duplicate;
  /// Whether the request's own `id` is among them (then no id can be trusted for the reply).
  bool id_repeated = false;
};

/// Parses `line` as JSON and looks for repeated keys. JSON allows them but leaves their
/// meaning open (RFC 8259, 4): nlohmann keeps the last, another reader the first, so a
/// request that reads as `status` to a proxy could run as `shutdown` here. Keys compare
/// after unescaping ("\u0063md" is "cmd").
json parse_checked(std::string_view line, key_check& found) {
  std::vector<std::set<std::string>> open_objects;
  auto watch = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
    case json::parse_event_t::object_start: open_objects.emplace_back(); break;
    case json::parse_event_t::object_end:
      if (!open_objects.empty()) {
        open_objects.pop_back();
      }
      break;
    case json::parse_event_t::key:
      if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second) {
        if (!found.duplicate) {
          found.duplicate = parsed.get<std::string>();
        }
        found.id_repeated =
            found.id_repeated || (open_objects.size() == 1 && parsed.get<std::string>() == "id");
      }
      break;
    default: break;
    }
    return true;
  };
  return json::parse(line, watch, false);
}

request_error fail(error_code code, std::string message, std::string id = "null") {
  return request_error{code, std::move(message), std::move(id)};
}

std::string type_phrase(arg_type t) {
  switch (t) {
  case arg_type::string: return "a string";
  case arg_type::string_list: return "an array of strings";
  case arg_type::count: return "a non-negative integer";
  case arg_type::boolean: return "true or false";
  }
  return "?";
}

bool has_type(const json& v, arg_type t) {
  switch (t) {
  case arg_type::string: return v.is_string();
  case arg_type::boolean: return v.is_boolean();
  case arg_type::count:
    return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
  case arg_type::string_list:
    if (!v.is_array()) {
      return false;
    }
    for (const auto& e : v) {
      if (!e.is_string()) {
        return false;
      }
    }
    return true;
  }
  return false;
}

std::int64_t count_value(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(u);
  }
  return v.get<std::int64_t>();
}

void store_arg(request& r, int s, const json& v) {
  switch (s) {
  case s_names:
    for (const auto& e : v) {
      r.names.push_back(e.get<std::string>());
    }
    return;
  case s_target: r.target = v.get<std::string>(); return;
  case s_term: r.term = v.get<std::string>(); return;
  case s_await: r.await_ms = count_value(v); return;
  case s_timeout: r.timeout_ms = count_value(v); return;
  case s_count: r.count = count_value(v); return;
  case s_follow: r.follow = v.get<bool>(); return;
  case s_detach: r.detach = v.get<bool>(); return;
  case s_dry_run: r.dry_run = v.get<bool>(); return;
  default: return;
  }
}

const command_spec& spec_of(command c) {
  return command_specs[static_cast<std::size_t>(c)];
}

result<request, request_error> read_args(request r, const json& doc) {
  const command_spec& spec = spec_of(r.cmd);
  std::string name(command_name(r.cmd));
  auto it = doc.find("args");
  const json empty = json::object();
  const json& args = (it == doc.end() || it->is_null()) ? empty : *it;
  if (!args.is_object()) {
    return fail(error_code::bad_request, "'args' must be an object", r.id);
  }
  for (auto a = args.begin(); a != args.end(); ++a) {
    bool known = false;
    for (std::size_t i = 0; i < spec.arg_count; ++i) {
      known = known || spec.args[i].key == a.key();
    }
    if (!known) {
      return fail(error_code::invalid_argument,
                  "'" + name + "' takes no argument '" + a.key() + "'", r.id);
    }
  }
  for (std::size_t i = 0; i < spec.arg_count; ++i) {
    const arg_spec& s = spec.args[i];
    auto v = args.find(std::string(s.key));
    if (v == args.end() || v->is_null()) {
      if (s.required) {
        return fail(error_code::invalid_argument,
                    "'" + name + "' needs the argument '" + std::string(s.key) + "'", r.id);
      }
      continue;
    }
    if (!has_type(*v, s.type)) {
      return fail(error_code::invalid_argument,
                  "argument '" + std::string(s.key) + "' must be " + type_phrase(s.type), r.id);
    }
    store_arg(r, s.slot, *v);
  }
  return r;
}

} // namespace

std::string_view command_name(command c) noexcept {
  return command_names[static_cast<std::size_t>(c)];
}

std::optional<command> command_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < command_names.size(); ++i) {
    if (command_names[i] == name) {
      return static_cast<command>(i);
    }
  }
  return std::nullopt;
}

std::string_view error_code_name(error_code c) noexcept {
  return error_names[static_cast<std::size_t>(c)];
}

result<request, request_error> parse_request(std::string_view line) {
  if (nesting_depth(line) > max_json_depth) {
    return fail(error_code::bad_request, "the request is nested too deeply");
  }
  key_check keys;
  json doc = parse_checked(line, keys);
  if (doc.is_discarded()) {
    return fail(error_code::bad_request, "not valid JSON");
  }
  if (keys.duplicate) {
    // The reply names the request when its id, at least, is not in doubt.
    std::string id = "null";
    if (auto it = doc.find("id");
        !keys.id_repeated && it != doc.end() && (it->is_string() || it->is_number_integer())) {
      id = dump(*it);
    }
    return fail(error_code::bad_request,
                "duplicate key " + dump(json(*keys.duplicate))
                    + " in the request; each key may appear once per object",
                id);
  }
  if (!doc.is_object()) {
    return fail(error_code::bad_request, "a request is a JSON object");
  }
  request r;
  if (auto id = doc.find("id"); id != doc.end()) {
    if (!id->is_null() && !id->is_string() && !id->is_number_integer()) {
      return fail(error_code::bad_request, "'id' must be an integer or a string");
    }
    r.id = dump(*id);
  }
  if (auto v = doc.find("v"); v != doc.end()) {
    if (!v->is_number_integer()) {
      return fail(error_code::bad_request, "'v' must be an integer", r.id);
    }
    if (v->get<std::int64_t>() != protocol_version) {
      return fail(error_code::unsupported_version,
                  "protocol version " + dump(*v) + " is not supported; this daemon speaks 1", r.id);
    }
  }
  auto cmd = doc.find("cmd");
  if (cmd == doc.end() || !cmd->is_string()) {
    return fail(error_code::bad_request, "a request needs 'cmd', a string", r.id);
  }
  auto known = command_from_name(cmd->get<std::string>());
  if (!known) {
    return fail(error_code::unknown_command, "unknown command '" + cmd->get<std::string>() + "'",
                r.id);
  }
  r.cmd = *known;
  return read_args(std::move(r), doc);
}

std::string reply_ok(std::string_view id, std::string_view result_json) {
  std::string out = R"({"v":1,"id":)";
  out.append(id);
  out.append(R"(,"ok":true,"result":)");
  out.append(result_json);
  out.append("}\n");
  return out;
}

std::string reply_error(std::string_view id, error_code code, std::string_view message) {
  json e = {{"code", error_code_name(code)}, {"message", message}};
  std::string out = R"({"v":1,"id":)";
  out.append(id);
  out.append(R"(,"ok":false,"error":)");
  out.append(dump(e));
  out.append("}\n");
  return out;
}

} // namespace vigil::daemon
