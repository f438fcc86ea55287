// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <system_error>

namespace vigil {

/// Vigil's own failure codes. Each names a condition a caller can act on; the context string
/// of `error` says which object it concerns.
enum class errc : int {
  invalid_argument = 1, ///< a value outside what the callee accepts
  parse_error,          ///< text that does not follow a grammar (term text, config)
  decode_error,         ///< a binary buffer that is truncated, corrupt or over a limit
  limit_exceeded,       ///< a size, depth or count bound was hit
  not_found,            ///< a name, pid or child that does not exist
  already_exists,       ///< a name or child that is already taken
  config_invalid,       ///< a config that parsed but does not validate
};

/// The category of `errc`, so that `errc` values travel in a `std::error_code`.
const std::error_category& vigil_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), vigil_category()};
}

/// A failure: what went wrong (`code`) and about what (`context`), as
/// "unable to open /etc/vigil/vigil.toml" plus ENOENT.
struct error {
  std::error_code code;
  std::string context;

  /// "context: message", the form logs and replies print.
  [[nodiscard]] std::string message() const;
};

} // namespace vigil

template <>
struct std::is_error_code_enum<vigil::errc> : std::true_type {};
