// SPDX-License-Identifier: Apache-2.0
// TOML nodes to option values by the option's type (durations, shutdowns, choices and
// signals, umasks, string lists and tables, terms, numbers, strings), and how an error
// quotes the node it got.
#include "decode.hpp"

#include "vigil/common/duration.hpp"
#include "vigil/common/suggest.hpp"
#include "vigil/supervision/spec_names.hpp"
#include "vigil/term/atom.hpp"

#include <cmath>
#include <sstream>
#include <vector>

namespace vigil::config::detail {
namespace {

using decoded = result<value, decode_failure>;

decode_failure expected(const std::string& what, const toml::node& node) {
  return {"expected " + what + ", got " + describe_value(node), {}, &node};
}

decode_failure mismatch(const option_info& info, const toml::node& node) {
  return expected(expected_phrase(info), node);
}

// Strings that reach execve or the environment cannot hold NUL.
bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > atom::max_length) {
    return false;
  }
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
              || c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

decoded decode_duration(const toml::node& node, const option_info& info) {
  if (const auto* s = node.as_string()) {
    if (auto d = parse_duration(s->get())) {
      return value{*d};
    }
  }
  if (const auto* i = node.as_integer()) {
    // A bare number is ambiguous (OTP counts milliseconds, systemd seconds): ask for a unit.
    auto failure = mismatch(info, node);
    failure.message += " (a duration needs a unit: \"" + std::to_string(i->get()) + "ms\"?)";
    return failure;
  }
  return mismatch(info, node);
}

decoded decode_shutdown(const toml::node& node, const option_info& info) {
  using supervision::shutdown_policy;
  if (const auto* s = node.as_string()) {
    using kind = shutdown_policy::kind;
    if (s->get() == supervision::name_of(kind::brutal_kill)) {
      return value{shutdown_policy::brutal_kill()};
    }
    if (s->get() == supervision::name_of(kind::infinity)) {
      return value{shutdown_policy::infinity()};
    }
  }
  auto d = decode_duration(node, info);
  if (!d) {
    return d.error();
  }
  return value{shutdown_policy::after(std::get<std::chrono::milliseconds>(*d))};
}

decoded decode_choice(const toml::node& node, const option_info& info, bool signal) {
  const auto* s = node.as_string();
  if (s == nullptr) {
    return mismatch(info, node);
  }
  std::string text = s->get();
  if (signal) {
    for (char& c : text) {
      if (c >= 'a' && c <= 'z') {
        c = static_cast<char>(c - 'a' + 'A');
      }
    }
    if (text.rfind("SIG", 0) != 0) {
      text = "SIG" + text;
    }
  }
  for (auto choice : info.choices) {
    if (choice == text) {
      return value{std::move(text)};
    }
  }
  auto failure = mismatch(info, node);
  if (auto guess = closest(s->get(), info.choices)) {
    failure.message += " (did you mean \"" + std::string(*guess) + "\"?)";
  }
  return failure;
}

decoded decode_umask(const toml::node& node, const option_info& info) {
  std::int64_t mode = -1;
  if (const auto* i = node.as_integer()) {
    mode = i->get();
  } else if (const auto* s = node.as_string()) {
    const std::string& text = s->get();
    if (!text.empty() && text.size() <= 4
        && text.find_first_not_of("01234567") == std::string::npos) {
      mode = 0;
      for (char c : text) {
        mode = mode * 8 + (c - '0');
      }
    }
  }
  if (mode < 0 || mode > 0777) {
    return mismatch(info, node);
  }
  return value{mode};
}

decoded decode_string_list(const toml::node& node, const option_info& info) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    return mismatch(info, node);
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto* s = (*array)[i].as_string();
    if (s == nullptr || has_nul(s->get())) {
      auto failure =
          expected(s == nullptr ? "a string" : "a string without NUL characters", (*array)[i]);
      failure.subpath = "[" + std::to_string(i) + "]";
      return failure;
    }
    out.push_back(s->get());
  }
  return value{std::move(out)};
}

decoded decode_string_table(const toml::node& node, const option_info& info) {
  const auto* table = node.as_table();
  if (table == nullptr) {
    return mismatch(info, node);
  }
  std::map<std::string, std::string> out;
  for (auto&& [key, item] : *table) {
    const auto* s = item.as_string();
    if (s == nullptr || has_nul(s->get())) {
      auto failure = expected(s == nullptr ? "a string" : "a string without NUL characters", item);
      failure.subpath = "." + std::string(key.str());
      return failure;
    }
    out.emplace(key.str(), s->get());
  }
  return value{std::move(out)};
}

result<term, decode_failure> to_term(const toml::node& node, std::string path, int depth);

result<term, decode_failure> table_to_term(const toml::table& table, const std::string& path,
                                           int depth) {
  std::vector<std::pair<term, term>> entries;
  for (auto&& [key, item] : table) {
    auto name = atom::try_make(key.str());
    if (!name) {
      bool too_long = key.str().size() > atom::max_length;
      return decode_failure{too_long ? "expected a key of at most 255 bytes (keys become atoms)"
                                     : "a key the atom table has no room for (it holds "
                                           + std::to_string(atom::count()) + " atoms)",
                            path + "." + std::string(key.str()), &item};
    }
    auto inner = to_term(item, path + "." + std::string(key.str()), depth + 1);
    if (!inner) {
      return inner.error();
    }
    entries.emplace_back(term(*name), std::move(*inner));
  }
  return term::map(entries);
}

result<term, decode_failure> to_term(const toml::node& node, std::string path, int depth) {
  constexpr int max_depth = 32;
  if (depth > max_depth) {
    return decode_failure{"expected at most 32 levels of nesting", std::move(path), &node};
  }
  switch (node.type()) {
  case toml::node_type::string: return term(node.as_string()->get());
  case toml::node_type::integer: return term(node.as_integer()->get());
  case toml::node_type::floating_point: return term(node.as_floating_point()->get());
  case toml::node_type::boolean: return term(node.as_boolean()->get());
  case toml::node_type::array: {
    std::vector<term> items;
    const auto& array = *node.as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      auto item = to_term(array[i], path + "[" + std::to_string(i) + "]", depth + 1);
      if (!item) {
        return item.error();
      }
      items.push_back(std::move(*item));
    }
    return term::list(items);
  }
  case toml::node_type::table: return table_to_term(*node.as_table(), path, depth);
  default: break;
  }
  auto failure = expected("a string, number, boolean, array or table", node);
  failure.subpath = std::move(path);
  return failure;
}

decoded decode_term_table(const toml::node& node, const option_info& info) {
  const auto* table = node.as_table();
  if (table == nullptr) {
    return mismatch(info, node);
  }
  auto t = table_to_term(*table, "", 0);
  if (!t) {
    return t.error();
  }
  return value{std::move(*t)};
}

decoded decode_number(const toml::node& node, const option_info& info) {
  if (const auto* i = node.as_integer()) {
    return value{static_cast<double>(i->get())};
  }
  if (const auto* f = node.as_floating_point(); f != nullptr && std::isfinite(f->get())) {
    return value{f->get()};
  }
  return mismatch(info, node);
}

decoded decode_string(const toml::node& node, const option_info& info) {
  const auto* s = node.as_string();
  if (s == nullptr) {
    return mismatch(info, node);
  }
  const std::string& text = s->get();
  bool ok = info.type == option_type::string || (info.type == option_type::name && is_name(text))
            || (info.type == option_type::path && text.size() > 1 && text.front() == '/');
  if (!ok || has_nul(text)) {
    return mismatch(info, node);
  }
  return value{text};
}

std::string_view plural(toml::node_type type) {
  switch (type) {
  case toml::node_type::string: return "strings";
  case toml::node_type::integer: return "integers";
  case toml::node_type::floating_point: return "floats";
  case toml::node_type::boolean: return "booleans";
  case toml::node_type::array: return "arrays";
  case toml::node_type::table: return "tables";
  default: return "dates and times";
  }
}

// "an empty array", "an array of strings", "an array of mixed types".
std::string describe_array(const toml::array& array) {
  if (array.empty()) {
    return "an empty array";
  }
  toml::node_type first = array[0].type();
  for (const auto& item : array) {
    if (item.type() != first) {
      return "an array of mixed types";
    }
  }
  return "an array of " + std::string(plural(first));
}

} // namespace

result<value, decode_failure> decode(const toml::node& node, const option_info& info) {
  switch (info.type) {
  case option_type::string:
  case option_type::name:
  case option_type::path: return decode_string(node, info);
  case option_type::integer:
    if (const auto* i = node.as_integer()) {
      return value{i->get()};
    }
    return mismatch(info, node);
  case option_type::number: return decode_number(node, info);
  case option_type::boolean:
    if (const auto* b = node.as_boolean()) {
      return value{b->get()};
    }
    return mismatch(info, node);
  case option_type::duration: return decode_duration(node, info);
  case option_type::shutdown: return decode_shutdown(node, info);
  case option_type::choice: return decode_choice(node, info, false);
  case option_type::signal: return decode_choice(node, info, true);
  case option_type::umask: return decode_umask(node, info);
  case option_type::string_list: return decode_string_list(node, info);
  case option_type::string_table: return decode_string_table(node, info);
  case option_type::term_table: return decode_term_table(node, info);
  case option_type::rlimits: return decode_rlimits(node, info);
  case option_type::limits: return decode_limits(node, info);
  case option_type::probe: return decode_probe(node, info);
  case option_type::exit_codes: return decode_exit_codes(node, info);
  case option_type::tasks: return decode_tasks(node, info);
  case option_type::table:
  case option_type::table_array: break;
  }
  return mismatch(info, node);
}

std::string names_phrase(std::span<const std::string_view> names) {
  std::string out = "one of ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : ", ") + std::string(names[i]);
  }
  return out;
}

std::string describe_value(const toml::node& node) {
  switch (node.type()) {
  case toml::node_type::string: {
    std::string out = "\"";
    for (char c : node.as_string()->get()) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        out += "\\x";
        out += "0123456789abcdef"[(c >> 4) & 0xf];
        out += "0123456789abcdef"[c & 0xf];
      } else {
        out += c;
      }
    }
    return out + "\"";
  }
  case toml::node_type::array: return describe_array(*node.as_array());
  case toml::node_type::table: return "a table";
  case toml::node_type::boolean: return node.as_boolean()->get() ? "true" : "false";
  case toml::node_type::integer: return std::to_string(node.as_integer()->get());
  default: break;
  }
  std::ostringstream out;
  node.visit([&out](const auto& v) {
    if constexpr (!toml::is_container<decltype(v)>) {
      out << v;
    }
  });
  return out.str();
}

} // namespace vigil::config::detail
