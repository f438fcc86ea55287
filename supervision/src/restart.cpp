// SPDX-License-Identifier: Apache-2.0
#include "vigil/supervision/restart.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace vigil::supervision {
namespace {

error invalid(const source_location& where, const std::string& what) {
  std::string context;
  if (!where.file.empty()) {
    context =
        where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": ";
  }
  return error{make_error_code(errc::config_invalid), context + what};
}

result<void> validate_backoff(const child_spec& child) {
  if (!child.backoff) {
    return {};
  }
  const auto& b = *child.backoff;
  if (b.initial.count() < 0 || b.max < b.initial) {
    return invalid(child.where, "child '" + child.id + "': backoff needs 0 <= initial <= max");
  }
  if (!(b.multiplier >= 1.0) || !std::isfinite(b.multiplier)) {
    return invalid(child.where, "child '" + child.id + "': backoff multiplier must be >= 1");
  }
  if (!(b.jitter >= 0.0 && b.jitter <= 1.0)) {
    return invalid(child.where, "child '" + child.id + "': backoff jitter must be in 0..1");
  }
  return {};
}

} // namespace

exit_kind classify(const term& reason) noexcept {
  if (reason.is(atoms::normal)) {
    return exit_kind::normal;
  }
  if (reason.is(atoms::shutdown)
      || (reason.is_tuple() && reason.size() == 2 && reason[0].is(atoms::shutdown))) {
    return exit_kind::shutdown;
  }
  return exit_kind::abnormal;
}

bool restart_intensity::record(time_point now) {
  while (!stamps_.empty() && now - stamps_.front() >= period_) {
    stamps_.pop_front();
  }
  stamps_.push_back(now);
  return stamps_.size() <= intensity_;
}

milliseconds backoff_delay(const backoff_policy& policy, std::uint32_t n, double unit) noexcept {
  if (n <= policy.immediate) {
    return milliseconds{0}; // the first restarts of a streak are immediate
  }
  n -= policy.immediate;
  double exponent = n == 0 ? 0.0 : static_cast<double>(n - 1);
  double base = static_cast<double>(policy.initial.count()) * std::pow(policy.multiplier, exponent);
  base = std::min(base, static_cast<double>(policy.max.count())); // also tames inf
  double jittered = base * (1.0 + policy.jitter * (2.0 * unit - 1.0));
  jittered = std::max(0.0, jittered);
  return milliseconds{static_cast<std::int64_t>(std::llround(jittered))};
}

result<void> validate(const child_spec& child) {
  if (child.id.empty()) {
    return invalid(child.where, "a child needs a non-empty id");
  }
  if (child.significant && child.restart == restart_type::permanent) {
    return invalid(child.where,
                   "child '" + child.id + "': a significant child cannot be permanent");
  }
  if (child.type == child_type::supervisor) {
    if (child.supervisor == nullptr) {
      return invalid(child.where, "child '" + child.id + "': a supervisor child needs a spec");
    }
    if (auto nested = validate(*child.supervisor); !nested) {
      return nested;
    }
  }
  return validate_backoff(child);
}

result<void> validate(const supervisor_spec& spec) {
  if (spec.period.count() <= 0) {
    return invalid(spec.where, "supervisor '" + spec.name + "': period must be positive");
  }
  if (spec.hold_retry.count() < 0 || spec.hold_retry_max.count() < 0) {
    return invalid(spec.where, "supervisor '" + spec.name + "': hold_retry must not be negative");
  }
  if (spec.how == strategy::simple_one_for_one && spec.children.size() > 1) {
    return invalid(spec.where, "supervisor '" + spec.name
                                   + "': simple_one_for_one takes at most one child template");
  }
  std::set<std::string> seen;
  for (const auto& child : spec.children) {
    if (auto ok = validate(child); !ok) {
      return ok;
    }
    if (!seen.insert(child.id).second) {
      return invalid(child.where, "duplicate child id '" + child.id + "'");
    }
  }
  return {};
}

} // namespace vigil::supervision
