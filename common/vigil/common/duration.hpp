// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

/// Reads a duration as the config writes it: one or more `<digits><unit>` groups with units
/// `ms`, `s`, `m`, `h` and `d`, largest first and each unit at most once ("250ms", "5s",
/// "1m30s", "2h"). Returns nullopt for anything else, for "infinity" (the options that take
/// it check for it themselves) and for totals that do not fit in 2^53 milliseconds.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Writes `d` so that `parse_duration` reads it back: the largest units that divide it
/// exactly, "5s", "1m30s", "250ms", "0s". `d` must not be negative.
[[nodiscard]] std::string format_duration(std::chrono::milliseconds d);

} // namespace vigil
