// SPDX-License-Identifier: Apache-2.0
// `limits = { memory = "512M", memory_high = "400M", cpus = 1.5, pids = 100 }`: the cgroup
// limits of an OS child, and `daemon.default_pids = "15%"`, the pids limit of those without
// one, checked here so that a bad one is an error at its line, not a failed write into the
// cgroup when the child starts.
#include "vigil/common/suggest.hpp"

#include "decode.hpp"

#include <cmath>
#include <limits>
#include <optional>

namespace vigil::config::detail {
namespace {

using supervision::cgroup_limits;

constexpr std::string_view size_phrase =
    "a size of at least 4K: bytes, or a number with a K, M, G or T suffix such as \"512M\"";
/// The kernel's least CFS quota is 1 ms; the period is 100 ms.
constexpr double least_cpus = 0.01;
constexpr double most_cpus = 100000.0;

/// "512M", "1G", 1048576: powers of 1024, as systemd reads MemoryMax=.
std::optional<std::uint64_t> size(const toml::node& node) {
  if (const auto* i = node.as_integer()) {
    return i->get() >= 0 ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(i->get()))
                         : std::nullopt;
  }
  const auto* s = node.as_string();
  if (s == nullptr || s->get().empty() || s->get().size() > 24) {
    return std::nullopt;
  }
  std::string_view text = s->get();
  std::uint64_t scale = 1;
  switch (text.back()) {
  case 'K':
  case 'k': scale = 1ULL << 10; break;
  case 'M':
  case 'm': scale = 1ULL << 20; break;
  case 'G':
  case 'g': scale = 1ULL << 30; break;
  case 'T':
  case 't': scale = 1ULL << 40; break;
  default: break;
  }
  if (scale != 1) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || n > std::numeric_limits<std::uint64_t>::max() / 10 / scale) {
      return std::nullopt;
    }
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (n > std::numeric_limits<std::uint64_t>::max() / scale) {
    return std::nullopt;
  }
  return n * scale;
}

/// "infinity", systemd's spelling for no limit (TasksMax=infinity); "max" is pids.max's.
bool is_infinity(const toml::node& node) {
  const auto* s = node.as_string();
  return s != nullptr && (s->get() == "infinity" || s->get() == "max");
}

} // namespace

result<value, decode_failure> decode_tasks(const toml::node& node, const option_info& info) {
  auto failure = [&] {
    return decode_failure{
        "expected " + expected_phrase(info) + ", got " + describe_value(node), {}, &node};
  };
  pids_default out;
  if (const auto* i = node.as_integer()) {
    // 0: none, as "infinity".
    if (i->get() < 0) {
      return failure();
    }
    out.tasks = static_cast<std::uint64_t>(i->get());
    out.percent = 0;
    return value{out};
  }
  if (is_infinity(node)) {
    return value{pids_default{.tasks = 0, .percent = 0}};
  }
  const auto* s = node.as_string();
  if (s == nullptr) {
    return failure();
  }
  std::string_view text = s->get();
  if (text.size() < 2 || text.size() > 4 || text.back() != '%') {
    return failure();
  }
  text.remove_suffix(1);
  std::uint32_t percent = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return failure();
    }
    percent = percent * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (percent < 1 || percent > 100) {
    return failure();
  }
  out.percent = percent;
  return value{out};
}

result<value, decode_failure> decode_limits(const toml::node& node, const option_info& info) {
  const auto* table = node.as_table();
  if (table == nullptr) {
    return decode_failure{
        "expected " + expected_phrase(info) + ", got " + describe_value(node), {}, &node};
  }
  cgroup_limits out;
  for (auto&& [key, value_node] : *table) {
    // A plain reference: clang before 16 cannot capture a structured binding in a lambda.
    const toml::node& item = value_node;
    std::string name(key.str());
    std::string subpath = "." + name;
    auto failure = [&](std::string_view what) {
      return decode_failure{"expected " + std::string(what) + ", got " + describe_value(item),
                            subpath, &item};
    };
    if (name == "memory" || name == "memory_high") {
      auto bytes = size(item);
      if (!bytes || *bytes < 4096) {
        return failure(size_phrase);
      }
      (name == "memory" ? out.memory : out.memory_high) = *bytes;
    } else if (name == "cpus") {
      std::optional<double> n;
      if (const auto* f = item.as_floating_point()) {
        n = f->get();
      } else if (const auto* i = item.as_integer()) {
        n = static_cast<double>(i->get());
      }
      if (!n || !std::isfinite(*n) || *n < least_cpus || *n > most_cpus) {
        return failure("a number of CPUs from 0.01 (1 ms per 100 ms, the kernel's least) such as "
                       "1.5");
      }
      out.cpus = *n;
    } else if (name == "pids") {
      // "infinity" is a limit of its own: none, whatever daemon.default_pids says.
      const auto* i = item.as_integer();
      if (is_infinity(item)) {
        out.pids = supervision::resource_limit::unlimited;
      } else if (i == nullptr || i->get() < 1) {
        return failure("a number of processes and threads from 1, or \"infinity\"");
      } else {
        out.pids = static_cast<std::uint64_t>(i->get());
      }
    } else {
      std::string message =
          "expected a cgroup limit, " + names_phrase(info.choices) + ", got \"" + name + "\"";
      if (auto guess = closest(name, info.choices)) {
        message += " (did you mean \"" + std::string(*guess) + "\"?)";
      }
      return decode_failure{std::move(message), subpath, &item};
    }
  }
  return value{out};
}

} // namespace vigil::config::detail
