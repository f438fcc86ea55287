// SPDX-License-Identifier: Apache-2.0
// `ready` and `health` (docs/readiness.md): "started" | "notify", or one table with one check,
//   { tcp = "127.0.0.1:6379" }, { http = "http://127.0.0.1:8080/healthz", status = 200 },
//   { exec = ["pg_isready", "-q"] }, { log = "regex" },
// and its timing: interval, timeout (and failures, for health). Exit-code lists too.
#include "vigil/common/duration.hpp"
#include "vigil/common/suggest.hpp"
#include "vigil/supervision/log_regex.hpp"

#include "decode.hpp"

#include <array>
#include <charconv>
#include <regex>

namespace vigil::config::detail {
namespace {

using supervision::probe_kind;
using supervision::probe_spec;
using decoded = result<value, decode_failure>;

constexpr std::array<std::string_view, 4> check_keys{"tcp", "http", "exec", "log"};
constexpr std::array<std::string_view, 8> ready_keys{"tcp",      "http",    "exec",  "log",
                                                     "interval", "timeout", "status"};
constexpr std::array<std::string_view, 8> health_keys{"tcp",     "http",   "exec",    "interval",
                                                      "timeout", "status", "failures"};

decode_failure at(const toml::node& node, std::string subpath, std::string message) {
  return {std::move(message), std::move(subpath), &node};
}

decode_failure got(const toml::node& node, std::string subpath, const std::string& what) {
  return at(node, std::move(subpath), "expected " + what + ", got " + describe_value(node));
}

bool port_ok(std::string_view text) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && port >= 1 && port <= 65535;
}

/// "host:port", "[v6]:port".
bool host_port_ok(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[' && (host.size() < 3 || host.back() != ']')) {
    return false;
  }
  return host.find_first_of(" /") == std::string_view::npos && port_ok(text.substr(colon + 1));
}

/// http://host[:port][/path]: the prober speaks plain HTTP only.
bool url_ok(std::string_view text) {
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, scheme.size()) != scheme) {
    return false;
  }
  std::string_view rest = text.substr(scheme.size());
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty()) {
    return false;
  }
  if (authority.find(':') == std::string_view::npos || authority.back() == ']') {
    return authority.find_first_of(" @") == std::string_view::npos;
  }
  return host_port_ok(authority);
}

result<std::chrono::milliseconds, decode_failure> positive(const toml::node& node,
                                                           const std::string& subpath) {
  if (const auto* s = node.as_string()) {
    if (auto d = parse_duration(s->get()); d && d->count() > 0) {
      return *d;
    }
  }
  return got(node, subpath, "a duration of at least 1ms such as \"5s\"");
}

result<void, decode_failure> check(const toml::node& item, std::string_view key, probe_spec& p) {
  std::string subpath = "." + std::string(key);
  if (key == "exec") {
    const auto* array = item.as_array();
    if (array == nullptr || array->empty()) {
      return got(item, subpath, "a command: a non-empty array of strings, the program first");
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const auto* s = (*array)[i].as_string();
      if (s == nullptr || s->get().empty() || s->get().find('\0') != std::string::npos) {
        return got((*array)[i], subpath + "[" + std::to_string(i) + "]", "a non-empty string");
      }
      p.command.push_back(s->get());
    }
    p.kind = probe_kind::exec;
    return {};
  }
  const auto* s = item.as_string();
  if (key == "tcp") {
    if (s == nullptr || !host_port_ok(s->get())) {
      return got(item, subpath, "\"host:port\" such as \"127.0.0.1:6379\"");
    }
    p.kind = probe_kind::tcp;
  } else if (key == "http") {
    if (s == nullptr || !url_ok(s->get())) {
      return got(item, subpath, "an http:// URL such as \"http://127.0.0.1:8080/healthz\"");
    }
    p.kind = probe_kind::http;
  } else {
    if (s == nullptr || s->get().empty()) {
      return got(item, subpath, "a regular expression");
    }
    try {
      (void)supervision::compile_log_regex(s->get()); // as the check will compile it
    } catch (const std::regex_error& e) {
      return at(item, subpath,
                "expected a regular expression, got " + describe_value(item) + " (" + e.what()
                    + ")");
    }
    p.kind = probe_kind::log;
  }
  p.target = s->get();
  return {};
}

decoded decode_probe_table(const toml::table& table, bool health) {
  std::span<const std::string_view> known(health ? health_keys.data() : ready_keys.data(),
                                          health ? health_keys.size() : ready_keys.size() - 1);
  probe_spec p;
  const toml::node* chosen = nullptr;
  std::string chosen_key;
  for (auto&& [key, item] : table) {
    std::string name(key.str());
    std::string subpath = "." + name;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string message = "expected one of";
      for (std::size_t i = 0; i < known.size(); ++i) {
        message += (i == 0 ? " " : ", ") + std::string(known[i]);
      }
      message += ", got \"" + name + "\"";
      if (auto guess = closest(name, known)) {
        message += " (did you mean \"" + std::string(*guess) + "\"?)";
      }
      return at(item, subpath, std::move(message));
    }
    if (std::find(check_keys.begin(), check_keys.end(), name) != check_keys.end()) {
      if (chosen != nullptr) {
        return at(item, subpath, "expected one check, got " + chosen_key + " and " + name);
      }
      chosen = &item;
      chosen_key = name;
      if (auto ok = check(item, name, p); !ok) {
        return ok.error();
      }
    } else if (name == "interval" || name == "timeout") {
      auto d = positive(item, subpath);
      if (!d) {
        return d.error();
      }
      (name == "interval" ? p.interval : p.timeout) = *d;
    } else {
      const auto* n = item.as_integer();
      bool status = name == "status";
      std::int64_t lo = status ? 100 : 1;
      std::int64_t hi = status ? 599 : 1000;
      if (n == nullptr || n->get() < lo || n->get() > hi) {
        return got(item, subpath,
                   "an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
      }
      (status ? p.status : p.failures) = static_cast<std::uint32_t>(n->get());
    }
  }
  if (chosen == nullptr) {
    return at(table, {},
              health ? "expected a check: one of tcp, http or exec"
                     : "expected a check: one of tcp, http, exec or log");
  }
  if (p.kind != probe_kind::http && table.contains("status")) {
    return at(*table.get("status"), ".status", "only applies with http");
  }
  return value{std::move(p)};
}

} // namespace

result<value, decode_failure> decode_probe(const toml::node& node, const option_info& info) {
  const bool health = info.name == "health";
  if (const auto* s = node.as_string(); s != nullptr && !health) {
    probe_spec p;
    if (s->get() == "started") {
      return value{p};
    }
    if (s->get() == "notify") {
      p.kind = probe_kind::notify;
      return value{p};
    }
    std::string message =
        "expected \"started\", \"notify\" or a table with one check, got " + describe_value(node);
    constexpr std::array<std::string_view, 2> words{"started", "notify"};
    if (auto guess = closest(s->get(), words)) {
      message += " (did you mean \"" + std::string(*guess) + "\"?)";
    }
    return at(node, {}, std::move(message));
  }
  const auto* table = node.as_table();
  if (table == nullptr) {
    return got(node, {}, expected_phrase(info));
  }
  return decode_probe_table(*table, health);
}

result<value, decode_failure> decode_exit_codes(const toml::node& node, const option_info& info) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    return got(node, {}, expected_phrase(info));
  }
  std::vector<std::int64_t> codes;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto* n = (*array)[i].as_integer();
    if (n == nullptr || n->get() < 0 || n->get() > 255) {
      return got((*array)[i], "[" + std::to_string(i) + "]", "an exit status from 0 to 255");
    }
    codes.push_back(n->get());
  }
  return value{std::move(codes)};
}

} // namespace vigil::config::detail
