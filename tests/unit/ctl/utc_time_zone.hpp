// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace vigil::ctl::testing {

/// Makes local time UTC while it lives (TZ=UTC), so that printed timestamps are fixed.
/// The test binary is single-threaded where this is used.
class utc_time_zone {
public:
  utc_time_zone() {
    if (const char* old = std::getenv("TZ"); old != nullptr) { // NOLINT(concurrency-mt-unsafe)
      saved_ = old;
    }
    ::setenv("TZ", "UTC", 1); // NOLINT(concurrency-mt-unsafe)
    ::tzset();
  }

  utc_time_zone(const utc_time_zone&) = delete;
  utc_time_zone& operator=(const utc_time_zone&) = delete;
  utc_time_zone(utc_time_zone&&) = delete;
  utc_time_zone& operator=(utc_time_zone&&) = delete;

  ~utc_time_zone() {
    if (saved_) {
      ::setenv("TZ", saved_->c_str(), 1); // NOLINT(concurrency-mt-unsafe)
    } else {
      ::unsetenv("TZ"); // NOLINT(concurrency-mt-unsafe)
    }
    ::tzset();
  }

private:
  std::optional<std::string> saved_;
};

} // namespace vigil::ctl::testing
