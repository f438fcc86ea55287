// SPDX-License-Identifier: Apache-2.0
#pragma once

// nlohmann/json is a heavy header: only the ctl sources that build or read protocol lines
// include this file.
#include <nlohmann/json.hpp>

#include <string>

namespace vigil::ctl {

/// The protocol's JSON values. Ordered, so that keys print in the daemon's order (an `info`
/// reply lists its keys as `Process.info` does).
using json = nlohmann::ordered_json;

/// `value` as one line of compact JSON. Invalid UTF-8 in strings is replaced by U+FFFD
/// instead of throwing.
inline std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The string at `key` of an object, or `fallback` when it is absent or not a string.
inline std::string string_field(const json& object, const char* key,
                                const std::string& fallback = {}) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

} // namespace vigil::ctl
