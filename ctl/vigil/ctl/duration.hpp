// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace vigil::ctl {

/// Reads a duration as vigilctl's options take it: as the config writes it
/// (`vigil::parse_duration`: "250ms", "1s", "1m30s"), or bare digits, read as milliseconds
/// ("1000"). Returns nullopt for anything else (signs, fractions, spaces) and for totals
/// above 2^53 ms.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

} // namespace vigil::ctl
