// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <signal.h>

#include <optional>
#include <string>
#include <string_view>

/// How an OS child's end becomes an exit reason, and signal names both ways.
namespace vigil::os {

/// `:normal` for exit status 0, `{:exit_status, N}` for another status, `{:signal, :SIGKILL}`
/// for death by a signal (with or without a core dump). `info` is what waitid returned.
[[nodiscard]] term exit_reason(const siginfo_t& info);

/// `{:oom_killed}`: the child died by SIGKILL and its cgroup counted an OOM kill (its memory
/// limit; docs/os-workers.md, "Limits"). A crash, restarted as its restart type says.
[[nodiscard]] term oom_killed_reason();

/// "SIGTERM" for SIGTERM; "SIG<n>" for a number without a name (real-time signals).
[[nodiscard]] std::string signal_name(int sig);

/// The signal named "SIGTERM", "TERM" or "term"; nullopt for an unknown name.
[[nodiscard]] std::optional<int> parse_signal(std::string_view name);

} // namespace vigil::os
