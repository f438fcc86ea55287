// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace vigil {

/// "Did you mean ...?" for names people type: config options, vigilctl commands.

/// The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
/// two adjacent characters each cost 1 ("restrat" is 1 from "restart").
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, if it is close enough to be what was meant: at most 1
/// edit for words of up to 4 characters, 2 for longer ones, or the same letters in another
/// case. Ties go to the earlier candidate.
[[nodiscard]] std::optional<std::string_view> closest(std::string_view word,
                                                      std::span<const std::string_view> candidates);

} // namespace vigil
