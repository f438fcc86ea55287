// SPDX-License-Identifier: Apache-2.0
#pragma once

// nlohmann::json for the command handlers (a costly header: only the TUs that build replies
// include it).

#include "vigil/term/term.hpp"
#include "vigil/term/text.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace vigil::daemon {

using json = nlohmann::json;

/// Serialises without throwing: invalid UTF-8 in a string becomes U+FFFD.
inline std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

inline json pid_json(pid p) {
  return to_string(term(p));
}

inline json pid_json(const std::optional<pid>& p) {
  return p ? pid_json(*p) : json(nullptr);
}

} // namespace vigil::daemon
