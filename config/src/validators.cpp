// SPDX-License-Identifier: Apache-2.0
#include "validators.hpp"

#include "vigil/config/addresses.hpp"

#include <algorithm>
#include <array>

namespace vigil::config::detail::validators {

using namespace std::chrono_literals;

std::string positive_duration(const value& v) {
  return std::get<std::chrono::milliseconds>(v) > 0ms ? std::string{}
                                                      : "a duration of at least 1ms";
}

std::string positive_shutdown(const value& v) {
  const auto& s = std::get<supervision::shutdown_policy>(v);
  if (s.how != supervision::shutdown_policy::kind::timeout || s.timeout > 0ms) {
    return {};
  }
  return "a duration of at least 1ms (\"brutal_kill\" kills at once)";
}

std::string multiplier_range(const value& v) {
  double m = std::get<double>(v);
  return m >= 1.0 && m <= 100.0 ? std::string{} : "a number from 1.0 to 100.0";
}

std::string fraction(const value& v) {
  double f = std::get<double>(v);
  return f >= 0.0 && f <= 1.0 ? std::string{} : "a number from 0.0 to 1.0";
}

std::string not_empty(const value& v) {
  return std::get<std::string>(v).empty() ? "a non-empty string" : std::string{};
}

std::string non_empty_strings(const value& v) {
  for (const auto& s : std::get<std::vector<std::string>>(v)) {
    if (s.empty()) {
      return "an array of non-empty strings";
    }
  }
  return {};
}

std::string send_grants(const value& v) {
  const auto& names = std::get<std::vector<std::string>>(v);
  // supervision::report_name(), vigild's event hub (the config links no runtime to ask).
  const std::string_view reports = "vigil_supervisor_reports";
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& n = names[i];
    if (n.empty() || n.size() > atom::max_length) {
      return "an array of registered names, each 1 to " + std::to_string(atom::max_length)
             + " bytes";
    }
    if (n == reports) {
      return "names of the worker's peers; '" + std::string(reports)
             + "' is vigild's own event hub, which no worker may reach";
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (names[j] == n) {
        return "an array of names without repeats ('" + n + "' is listed twice)";
      }
    }
  }
  return {};
}

std::string command_line(const value& v) {
  const auto& argv = std::get<std::vector<std::string>>(v);
  if (argv.empty() || argv.front().empty()) {
    return "a non-empty array of strings, the program first";
  }
  return {};
}

std::string socket_path(const value& v) {
  // sun_path holds 108 bytes, the terminating NUL included.
  return std::get<std::string>(v).size() <= 107
             ? std::string{}
             : "an absolute path of at most 107 bytes (a Unix socket address)";
}

std::string cgroup_base(const value& v) {
  const auto& s = std::get<std::string>(v);
  if (s == "auto" || s == "off" || (s.size() > 1 && s.front() == '/' && s.back() != '/')) {
    return {};
  }
  return "\"auto\", \"off\" or an absolute path of a cgroup2 directory";
}

std::string environment(const value& v) {
  for (const auto& [name, val] : std::get<std::map<std::string, std::string>>(v)) {
    if (name.empty() || name.find('=') != std::string::npos) {
      return "variable names that are non-empty and contain no '='";
    }
  }
  return {};
}

std::string listen_address(const value& v) {
  return parse_listen(std::get<std::string>(v))
             ? std::string{}
             : "an absolute Unix socket path or \"tcp://HOST:PORT\" with an IP address";
}

std::string hook_events(const value& v) {
  constexpr std::array<std::string_view, 3> known{"child_failed", "child_restarted",
                                                  "supervisor_gave_up"};
  const auto& names = std::get<std::vector<std::string>>(v);
  const bool all_known = std::all_of(names.begin(), names.end(), [&](const std::string& n) {
    return std::find(known.begin(), known.end(), n) != known.end();
  });
  return !names.empty() && all_known
             ? std::string{}
             : "a non-empty array of child_failed, child_restarted, supervisor_gave_up";
}

std::string loopback_url(const value& v) {
  return parse_loopback_url(std::get<std::string>(v))
             ? std::string{}
             : "an http://HOST:PORT/PATH URL on loopback (127.0.0.1, [::1] or localhost)";
}

} // namespace vigil::config::detail::validators
