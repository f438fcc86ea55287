// SPDX-License-Identifier: Apache-2.0
#include "counters.hpp"

#include <nlohmann/json.hpp>

namespace vigil::observer {
namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

} // namespace

void event_counters::count(const nlohmann::json& event) {
  const std::string name = event.value("event", "");
  const std::string path = event.value("path", "");
  if (name == "supervisor_report") {
    // The report of a child's exit carries its supervisor's restarts in the window.
    std::lock_guard lock(mutex_);
    auto& s = supervisors_[parent_of(path)];
    s.restarts_in_window = event.value("restarts", 0U);
    s.intensity = event.value("intensity", 0U);
    s.period_ms = event.value("period_ms", std::int64_t{0});
  } else if (name == "supervisor_gave_up") {
    std::lock_guard lock(mutex_);
    ++supervisors_[path].gave_up;
  }
}

std::map<std::string, supervisor_counts> event_counters::supervisors() const {
  std::lock_guard lock(mutex_);
  return supervisors_;
}

} // namespace vigil::observer
