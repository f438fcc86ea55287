// SPDX-License-Identifier: Apache-2.0
#include "vigil/config/addresses.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace vigil::config {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || p != end || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool ip_literal(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1
         || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

/// "HOST:PORT" or "[V6]:PORT" into its parts.
std::optional<std::pair<std::string, std::uint16_t>> host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find("]:");
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto p = parse_port(port);
  if (!p || host.empty()) {
    return std::nullopt;
  }
  return std::pair{std::string(host), *p};
}

} // namespace

std::optional<listen_address> parse_listen(std::string_view text) {
  constexpr std::string_view tcp = "tcp://";
  if (text.starts_with('/')) {
    return listen_address{.path = std::string(text)};
  }
  if (!text.starts_with(tcp)) {
    return std::nullopt;
  }
  auto hp = host_port(text.substr(tcp.size()));
  if (!hp || !ip_literal(hp->first)) {
    return std::nullopt;
  }
  return listen_address{.tcp = true, .host = hp->first, .port = hp->second};
}

bool is_loopback(std::string_view host) {
  std::string h(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24U) == 127U;
  }
  in6_addr v6{};
  return ::inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::optional<http_url> parse_loopback_url(std::string_view text) {
  constexpr std::string_view scheme = "http://";
  if (!text.starts_with(scheme)) {
    return std::nullopt;
  }
  text.remove_prefix(scheme.size());
  auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  http_url url;
  if (slash != std::string_view::npos) {
    url.target = std::string(text.substr(slash));
  }
  auto hp = host_port(authority);
  if (!hp) {
    return std::nullopt;
  }
  url.host = hp->first == "localhost" ? std::string("127.0.0.1") : hp->first;
  url.port = hp->second;
  if (!is_loopback(url.host)) {
    return std::nullopt;
  }
  return url;
}

} // namespace vigil::config
