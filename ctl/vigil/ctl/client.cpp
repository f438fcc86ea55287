// SPDX-License-Identifier: Apache-2.0
// vigilctl's connection to vigild: connecting (with a hint when it fails), writing requests,
// reading JSON lines (replies and events) against a deadline, and unpacking a reply into its
// result or error.
#include "vigil/ctl/client.hpp"

#include <fmt/core.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace vigil::ctl {
namespace {

std::string errno_text(int err) {
  return std::system_category().message(err);
}

std::string connect_hint(int err) {
  switch (err) {
  case ENOENT:
  case ECONNREFUSED: return " (is vigild running? --socket or VIGIL_SOCKET name another socket)";
  case EACCES:
  case EPERM: return " (allowed_users and allowed_groups in vigild's config grant access)";
  default: return {};
  }
}

// A shortened copy of a line for error messages.
std::string excerpt(std::string_view line) {
  constexpr std::size_t max = 120;
  return line.size() <= max ? std::string(line) : std::string(line.substr(0, max)) + "...";
}

bool is_event(const json& message) {
  return message.is_object() && message.contains("event") && !message.contains("id");
}

} // namespace

result<client, ctl_error> client::connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return usage_error(fmt::format("socket path too long ({} bytes, at most {}): {}", path.size(),
                                   sizeof(addr.sun_path) - 1, path));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return connect_error(fmt::format("unable to create a socket: {}", errno_text(errno)));
  }
  // A Unix-socket connect completes or fails at once; EINTR is retried for form's sake.
  int rc = 0;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    return connect_error(
        fmt::format("unable to connect to {}: {}{}", path, errno_text(err), connect_hint(err)));
  }
  // Whoever serves the socket sees every request and answers for the daemon: only root or
  // our own uid may (like ssh-agent and tmux clients), not a user who put a socket there.
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
    return connect_error(fmt::format("unable to learn who serves {}: {}", path, errno_text(errno)));
  }
  if (peer.uid != 0 && peer.uid != ::geteuid()) {
    return connect_error(
        fmt::format("{} is served by uid {}, not root or you: refusing", path, peer.uid));
  }
  return client(std::move(fd));
}

client::client(unique_fd fd) noexcept : fd_(std::move(fd)) {}

result<json, ctl_error> client::call(std::string_view cmd, const json& args,
                                     std::chrono::milliseconds timeout) {
  std::int64_t id = next_id_++;
  json request = {{"v", 1}, {"id", id}, {"cmd", cmd}};
  if (args.is_object() && !args.empty()) {
    request["args"] = args;
  }
  std::string line = dump_json(request);
  line += '\n';
  if (line.size() > max_request_bytes) {
    return usage_error(fmt::format("request too large: {} bytes, vigild accepts at most {}",
                                   line.size(), max_request_bytes));
  }
  if (auto written = write_all(line); !written) {
    return explain_write_failure(written.error());
  }
  auto deadline = clock::now() + timeout;
  for (;;) {
    auto message = read_message(deadline);
    if (!message) {
      return message.error();
    }
    if (!message->has_value()) {
      return connect_error(
          fmt::format("no reply from vigild to '{}' within {} ms", cmd, timeout.count()));
    }
    if (is_event(**message)) {
      events_.push_back(std::move(**message));
      continue;
    }
    return unpack_reply(**message, id);
  }
}

result<json, ctl_error> client::next_event(std::optional<std::chrono::milliseconds> timeout) {
  if (!events_.empty()) {
    json event = std::move(events_.front());
    events_.pop_front();
    return event;
  }
  std::optional<clock::time_point> deadline;
  if (timeout) {
    deadline = clock::now() + *timeout;
  }
  auto message = read_message(deadline);
  if (!message) {
    return message.error();
  }
  if (!message->has_value()) {
    return json(nullptr);
  }
  if (!is_event(**message)) {
    return protocol_error("unexpected line while following events: "
                          + excerpt(dump_json(**message)));
  }
  return std::move(**message);
}

result<void, ctl_error> client::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return connect_error(fmt::format("unable to write to vigild: {}", errno_text(errno)));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

result<std::optional<json>, ctl_error>
client::read_message(std::optional<clock::time_point> deadline) {
  for (;;) {
    std::size_t end = buffer_.find('\n', scanned_);
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      scanned_ = 0;
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        continue;
      }
      json message = json::parse(line, nullptr, false);
      if (message.is_discarded()) {
        return protocol_error("reply is not JSON: " + excerpt(line));
      }
      return std::optional<json>(std::move(message));
    }
    scanned_ = buffer_.size();
    if (buffer_.size() > max_reply_bytes) {
      return protocol_error(fmt::format("reply line longer than {} bytes", max_reply_bytes));
    }
    auto filled = fill(deadline);
    if (!filled) {
      return filled.error();
    }
    if (!*filled) {
      return std::optional<json>();
    }
  }
}

result<bool, ctl_error> client::fill(std::optional<clock::time_point> deadline) {
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock::now());
      wait_ms = static_cast<int>(std::max<std::int64_t>(left.count(), 0));
    }
    pollfd pfd{fd_.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, wait_ms);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      return connect_error(fmt::format("unable to poll the control socket: {}", errno_text(errno)));
    }
    if (ready == 0) {
      return false;
    }
    std::array<char, 65'536> chunk{};
    ssize_t n = ::read(fd_.get(), chunk.data(), chunk.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n < 0) {
      return connect_error(fmt::format("unable to read from vigild: {}", errno_text(errno)));
    }
    if (n == 0) {
      return connect_error("vigild closed the connection");
    }
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
  }
}

result<json, ctl_error> client::unpack_reply(const json& reply, std::int64_t id) {
  if (!reply.is_object()) {
    return protocol_error("reply is not a JSON object: " + excerpt(dump_json(reply)));
  }
  if (auto v = reply.find("v"); v != reply.end() && *v != 1) {
    return protocol_error("reply speaks protocol version " + dump_json(*v) + ", not 1");
  }
  auto ok = reply.find("ok");
  if (ok == reply.end() || !ok->is_boolean()) {
    return protocol_error("reply has no boolean 'ok': " + excerpt(dump_json(reply)));
  }
  auto reply_id = reply.find("id");
  bool anonymous = reply_id == reply.end() || reply_id->is_null();
  // Errors about a line the daemon could not read (bad_request, too_large, unauthorized)
  // carry no id; every other reply names its request.
  if ((anonymous && *ok) || (!anonymous && *reply_id != id)) {
    return protocol_error(fmt::format("reply to request {} while waiting for request {}",
                                      anonymous ? "null" : dump_json(*reply_id), id));
  }
  if (*ok) {
    auto res = reply.find("result");
    if (res == reply.end() || !res->is_object()) {
      return protocol_error("reply has no 'result' object: " + excerpt(dump_json(reply)));
    }
    return *res;
  }
  auto err = reply.find("error");
  if (err == reply.end() || !err->is_object() || !err->contains("code")) {
    return protocol_error("error reply has no 'error' object: " + excerpt(dump_json(reply)));
  }
  auto code_field = err->find("code");
  std::string code =
      code_field->is_string() ? code_field->get<std::string>() : dump_json(*code_field);
  std::string message = string_field(*err, "message", code);
  if (code == "unauthorized") {
    return connect_error("vigild refused the connection: " + message);
  }
  return ctl_error{exit_code::daemon_error, std::move(code), std::move(message)};
}

ctl_error client::explain_write_failure(ctl_error failure) {
  // A daemon that refuses a peer writes one error line and closes before reading anything:
  // that line, if it came, says more than EPIPE does.
  auto message = read_message(clock::now() + std::chrono::milliseconds(200));
  if (!message || !message->has_value() || !(*message)->is_object()) {
    return failure;
  }
  const json& line = **message;
  bool anonymous = !line.contains("id") || line["id"].is_null();
  if (anonymous && line.contains("ok") && line["ok"] == false) {
    auto reply = unpack_reply(line, 0);
    if (!reply) {
      return reply.error();
    }
  }
  return failure;
}

} // namespace vigil::ctl
