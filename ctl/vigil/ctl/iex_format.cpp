// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/iex_format.hpp"

#include "vigil/ctl/table.hpp"
#include "vigil/ctl/term_text.hpp"
#include "vigil/term/text.hpp"

namespace vigil::ctl {
namespace {

// Replies are parsed by nlohmann's iterative parser, so they can nest deeper than a
// recursive printer's stack allows; past this depth a value prints as "...".
constexpr int max_depth = 64;

std::string as_term(const json& value, int depth);

std::string joined(const json& value, int depth, bool with_keys) {
  std::string out;
  bool first = true;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!first) {
      out += ", ";
    }
    first = false;
    if (with_keys) {
      out += keyword_key(it.key());
      out += ' ';
    }
    out += as_term(*it, depth + 1);
  }
  return out;
}

std::string as_term(const json& value, int depth) {
  if (depth > max_depth) {
    return "...";
  }
  switch (value.type()) {
  case json::value_t::null: return "nil";
  case json::value_t::boolean: return value.get<bool>() ? "true" : "false";
  case json::value_t::number_integer: return std::to_string(value.get<std::int64_t>());
  case json::value_t::number_unsigned: return std::to_string(value.get<std::uint64_t>());
  case json::value_t::number_float: return to_string(term(value.get<double>()));
  case json::value_t::string: return term_or_string(value.get<std::string>());
  case json::value_t::array: return "[" + joined(value, depth, false) + "]";
  case json::value_t::object: return "%{" + joined(value, depth, true) + "}";
  default: return dump_json(value);
  }
}

} // namespace

std::string json_as_term(const json& value) {
  return as_term(value, 0);
}

std::string keyword_key(std::string_view key) {
  if (is_identifier(key)) {
    return std::string(key) + ":";
  }
  return to_string(term(key)) + ":";
}

std::string wrap_items(std::string_view open, const std::vector<std::string>& items,
                       std::string_view close, std::size_t width) {
  std::string out(open);
  std::size_t column = display_width(open);
  for (std::size_t i = 0; i < items.size(); ++i) {
    bool last = i + 1 == items.size();
    std::size_t need = display_width(items[i]) + (last ? close.size() : 1);
    if (i > 0) {
      if (column + 1 + need > width) {
        out += "\n ";
        column = 1;
      } else {
        out += ' ';
        column += 1;
      }
    }
    out += items[i];
    out += last ? "" : ",";
    column += need;
  }
  out += close;
  return out;
}

std::string keyword_list(const json& object, std::size_t width) {
  if (!object.is_object()) {
    return json_as_term(object);
  }
  std::vector<std::string> items;
  for (auto it = object.begin(); it != object.end(); ++it) {
    items.push_back(keyword_key(it.key()) + " " + json_as_term(*it));
  }
  return wrap_items("[", items, "]", width);
}

} // namespace vigil::ctl
