// SPDX-License-Identifier: Apache-2.0
#pragma once

/// Whether this translation unit is built with AddressSanitizer (GCC or clang). Memory pools
/// step aside when it is, so that a use-after-free of a pooled block is still reported.
namespace vigil {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool address_sanitizer_on = true;
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
inline constexpr bool address_sanitizer_on = true;
#  else
inline constexpr bool address_sanitizer_on = false;
#  endif
#else
inline constexpr bool address_sanitizer_on = false;
#endif

} // namespace vigil
