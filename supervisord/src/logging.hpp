// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace vigil::daemon {

/// Where vigild's log goes.
struct log_options {
  /// Under systemd (JOURNAL_STREAM or INVOCATION_ID set): stderr lines with sd-daemon(3)
  /// priority prefixes ("<6>"), which journald turns into priorities.
  bool journal = false;
  /// In the foreground: plain lines on stderr with a timestamp and the level.
  bool foreground = true;
  /// When running in the background without a file, syslog (daemon facility).
  bool syslog = false;
  /// Also append to this file.
  std::optional<std::string> file;
  std::string level = "info";
};

/// Whether the environment says systemd started vigild with its stderr on the journal.
[[nodiscard]] bool under_systemd();

/// Makes the default spdlog logger. Fails if the log file cannot be opened.
[[nodiscard]] result<void> setup_logging(const log_options& options);

/// Sets the least severe level logged (spdlog's names); false for an unknown name.
bool set_log_level(std::string_view level);

} // namespace vigil::daemon
