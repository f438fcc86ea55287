// SPDX-License-Identifier: Apache-2.0
// Request lines of the control protocol, checked against docs/protocol.md before anything
// runs: the JSON depth limit, duplicate keys, `v`, `id` and `cmd`, then each argument against
// the command table (command_table.cpp); and the reply lines that carry results and errors.
#include "vigil/protocol/request.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <limits>
#include <set>
#include <utility>
#include <vector>

namespace vigil::protocol {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 10> error_names{
    "bad_request",      "too_large", "unsupported_version", "unknown_command",
    "invalid_argument", "not_found", "unauthorized",        "failed",
    "shutting_down",    "protected"};

/// Requests from outside are nested no deeper than term text may be.
constexpr int max_json_depth = 64;

/// Where an argument lands in `request`. The same key means the same thing in every
/// command that takes it (docs/protocol.md).
enum class slot : std::uint8_t {
  names,
  target,
  term,
  await,
  timeout,
  count,
  follow,
  dry_run,
  detach
};

struct slot_of_key {
  std::string_view key;
  slot where;
};

constexpr std::array<slot_of_key, 14> slots{{
    {"names", slot::names},
    {"target", slot::target},
    {"name", slot::target},
    {"kind", slot::target},
    {"term", slot::term},
    {"reason", slot::term},
    {"args", slot::term},
    {"await_ms", slot::await},
    {"timeout_ms", slot::timeout},
    {"lines", slot::count},
    {"last", slot::count},
    {"follow", slot::follow},
    {"dry_run", slot::dry_run},
    {"detach", slot::detach},
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

void store_arg(request& r, std::string_view key, const json& v) {
  for (const slot_of_key& s : slots) {
    if (s.key != key) {
      continue;
    }
    switch (s.where) {
    case slot::names:
      for (const auto& e : v) {
        r.names.push_back(e.get<std::string>());
      }
      return;
    case slot::target: r.target = v.get<std::string>(); return;
    case slot::term: r.term = v.get<std::string>(); return;
    case slot::await: r.await_ms = count_value(v); return;
    case slot::timeout: r.timeout_ms = count_value(v); return;
    case slot::count: r.count = count_value(v); return;
    case slot::follow: r.follow = v.get<bool>(); return;
    case slot::detach: r.detach = v.get<bool>(); return;
    case slot::dry_run: r.dry_run = v.get<bool>(); return;
    }
  }
}

result<request, request_error> read_args(request r, const json& doc) {
  const command_info& spec = info_of(r.cmd);
  std::string name(spec.name);
  auto it = doc.find("args");
  const json empty = json::object();
  const json& args = (it == doc.end() || it->is_null()) ? empty : *it;
  if (!args.is_object()) {
    return fail(error_code::bad_request, "'args' must be an object", r.id);
  }
  for (auto a = args.begin(); a != args.end(); ++a) {
    if (spec.find_arg(a.key()) == nullptr) {
      return fail(error_code::invalid_argument,
                  "'" + name + "' takes no argument '" + a.key() + "'", r.id);
    }
  }
  for (const argument& s : spec.args()) {
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
                  "argument '" + std::string(s.key) + "' must be "
                      + std::string(type_phrase(s.type)),
                  r.id);
    }
    store_arg(r, s.key, *v);
  }
  return r;
}

} // namespace

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

namespace {

constexpr std::string_view reply_open = R"({"v":1,"id":)";
constexpr std::string_view reply_result = R"(,"ok":true,"result":)";
constexpr std::string_view reply_close = "}\n";

} // namespace

void begin_reply_ok(std::string& out, std::string_view id) {
  out.append(reply_open);
  out.append(id);
  out.append(reply_result);
}

void end_reply_ok(std::string& out) {
  out.append(reply_close);
}

std::string reply_ok(std::string_view id, std::string_view result_json) {
  std::string out;
  // One allocation: a reply is as large as its result, up to megabytes.
  out.reserve(reply_open.size() + id.size() + reply_result.size() + result_json.size()
              + reply_close.size());
  begin_reply_ok(out, id);
  out.append(result_json);
  end_reply_ok(out);
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

} // namespace vigil::protocol
