// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/ctl/json.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::ctl {

/// A reply value printed as the term it stands for, the way iex prints terms: strings that
/// are term text print as that term (`"waiting"` -> `:waiting`, pids as themselves), other
/// strings quoted; numbers and booleans as themselves; null as `nil`; arrays as lists;
/// objects as maps with atom keys (`%{id: "echo"}`).
[[nodiscard]] std::string json_as_term(const json& value);

/// `items` joined by ", " between `open` and `close`, wrapped as iex wraps long terms: when
/// a line would pass `width` columns, the next item starts a new line indented by one space.
[[nodiscard]] std::string wrap_items(std::string_view open, const std::vector<std::string>& items,
                                     std::string_view close, std::size_t width);

/// An object as a keyword list, `[current_function: ..., status: :waiting, ...]`, wrapped at
/// `width`: how the shell prints `Process.info(pid)`.
[[nodiscard]] std::string keyword_list(const json& object, std::size_t width = 80);

/// `key` as the key of a keyword list or map: `status:` or `"odd key":`.
[[nodiscard]] std::string keyword_key(std::string_view key);

} // namespace vigil::ctl
