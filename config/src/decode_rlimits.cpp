// SPDX-License-Identifier: Apache-2.0
// `rlimits = { nofile = 1024, core = 0, stack = [8388608, "unlimited"] }`: resource limits of
// an OS child, by setrlimit's names.
#include "vigil/common/suggest.hpp"

#include "decode.hpp"

#include <limits>
#include <optional>

namespace vigil::config::detail {
namespace {

using supervision::resource_limit;

constexpr std::string_view value_phrase =
    "a limit: a non-negative integer, \"unlimited\", or [soft, hard] of those";

/// One bound: an integer from 0, or "unlimited" / "infinity".
std::optional<std::uint64_t> bound(const toml::node& node) {
  if (const auto* i = node.as_integer(); i != nullptr && i->get() >= 0) {
    return static_cast<std::uint64_t>(i->get());
  }
  if (const auto* s = node.as_string();
      s != nullptr && (s->get() == "unlimited" || s->get() == "infinity")) {
    return resource_limit::unlimited;
  }
  return std::nullopt;
}

result<resource_limit, decode_failure> limit(const toml::node& node, const std::string& subpath) {
  auto failure = [&](std::string message) {
    return decode_failure{std::move(message), subpath, &node};
  };
  if (auto both = bound(node)) {
    return resource_limit{*both, *both};
  }
  const auto* pair = node.as_array();
  if (pair == nullptr || pair->size() != 2) {
    return failure("expected " + std::string(value_phrase) + ", got " + describe_value(node));
  }
  auto soft = bound((*pair)[0]);
  auto hard = bound((*pair)[1]);
  if (!soft || !hard) {
    return failure("expected " + std::string(value_phrase) + ", got " + describe_value(node));
  }
  if (*soft > *hard) {
    return failure("expected a soft limit no higher than the hard one, got soft "
                   + describe_value((*pair)[0]) + " and hard " + describe_value((*pair)[1]));
  }
  return resource_limit{*soft, *hard};
}

} // namespace

result<value, decode_failure> decode_rlimits(const toml::node& node, const option_info& info) {
  const auto* table = node.as_table();
  if (table == nullptr) {
    return decode_failure{
        "expected " + expected_phrase(info) + ", got " + describe_value(node), {}, &node};
  }
  std::map<std::string, resource_limit> out;
  for (auto&& [key, item] : *table) {
    std::string name(key.str());
    std::string subpath = "." + name;
    bool known = false;
    for (auto choice : info.choices) {
      known = known || choice == name;
    }
    if (!known) {
      std::string message =
          "expected a resource limit, " + names_phrase(info.choices) + ", got \"" + name + "\"";
      if (auto guess = closest(name, info.choices)) {
        message += " (did you mean \"" + std::string(*guess) + "\"?)";
      }
      return decode_failure{std::move(message), subpath, &item};
    }
    auto l = limit(item, subpath);
    if (!l) {
      return l.error();
    }
    out.emplace(std::move(name), *l);
  }
  return value{std::move(out)};
}

} // namespace vigil::config::detail
