// SPDX-License-Identifier: Apache-2.0
#pragma once

// The addresses of the [observer] and [[hook]] tables, parsed once for the loader (which
// reports a bad one at its place in the file) and for vigild (which binds or connects).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::config {

/// `[observer] listen`: an absolute Unix socket path, or tcp://HOST:PORT with HOST an IPv4
/// literal or a bracketed IPv6 literal ("tcp://[::1]:9100").
struct listen_address {
  bool tcp = false;
  std::string path; ///< a Unix socket
  std::string host; ///< tcp: the literal, without brackets
  std::uint16_t port = 0;
};

/// The address `text` names, or nothing when it is neither form.
[[nodiscard]] std::optional<listen_address> parse_listen(std::string_view text);

/// True for 127.0.0.0/8 and ::1: only processes of this host reach it.
[[nodiscard]] bool is_loopback(std::string_view host);

/// A hook's `post`: http://HOST:PORT/PATH with a loopback HOST literal (or "localhost").
struct http_url {
  std::string host;
  std::uint16_t port = 80;
  std::string target = "/";
};

[[nodiscard]] std::optional<http_url> parse_loopback_url(std::string_view text);

} // namespace vigil::config
