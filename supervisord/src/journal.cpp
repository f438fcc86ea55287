// SPDX-License-Identifier: Apache-2.0
#include "journal.hpp"

#include "vigil/common/unique_fd.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vigil::daemon {
namespace {

void add_field(std::string& out, std::string_view key, std::string_view value) {
  if (value.find('\n') == std::string_view::npos) {
    out.append(key).append("=").append(value).append("\n");
    return;
  }
  // KEY\n, the value's length as a little-endian 64-bit integer, the value, \n.
  out.append(key).append("\n");
  auto n = static_cast<std::uint64_t>(value.size());
  for (unsigned i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((n >> (8U * i)) & 0xFFU));
  }
  out.append(value).append("\n");
}

} // namespace

std::string journal_datagram(const worker_line& line) {
  std::string_view text = line.text;
  char priority = '6';
  if (text.size() >= 3 && text[0] == '<' && text[1] >= '0' && text[1] <= '7' && text[2] == '>') {
    priority = text[1];
    text.remove_prefix(3);
  }
  std::string out;
  out.reserve(text.size() + line.name.size() + line.worker.size() + 96);
  add_field(out, "MESSAGE", text);
  add_field(out, "PRIORITY", std::string_view(&priority, 1));
  add_field(out, "SYSLOG_IDENTIFIER", line.name);
  if (!line.worker.empty()) {
    add_field(out, "VIGIL_WORKER", line.worker);
  }
  add_field(out, "VIGIL_STREAM", line.stream);
  if (line.os_pid > 0) {
    add_field(out, "VIGIL_OS_PID", std::to_string(line.os_pid));
  }
  return out;
}

journal_send send_to_journal(const worker_line& line, const char* socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::size_t len = std::strlen(socket_path);
  if (len == 0 || len >= sizeof addr.sun_path) {
    return journal_send::absent;
  }
  std::memcpy(addr.sun_path, socket_path, len);
  // One socket per process, opened on first use: a line costs one sendto.
  static const unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return journal_send::absent;
  }
  std::string datagram = journal_datagram(line);
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + 1);
  auto n = ::sendto(fd.get(), datagram.data(), datagram.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                    reinterpret_cast<const sockaddr*>(&addr), addr_len);
  if (n == static_cast<ssize_t>(datagram.size())) {
    return journal_send::sent;
  }
  // A full queue at journald's end: EAGAIN for a datagram socket; ENOBUFS when the kernel
  // is short of buffers. Anything else means no journald to take the line.
  return n < 0 && (errno == EAGAIN || errno == ENOBUFS) ? journal_send::full : journal_send::absent;
}

} // namespace vigil::daemon
