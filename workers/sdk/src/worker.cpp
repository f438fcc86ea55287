// SPDX-License-Identifier: Apache-2.0
#include "vigil/worker_sdk/worker.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace vigil::sdk {
namespace {

std::optional<std::uint32_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  std::uint32_t v = 0;
  if (text == nullptr) {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text, text + std::strlen(text), v);
  if (ec != std::errc{} || *end != '\0') {
    return std::nullopt;
  }
  return v;
}

} // namespace

result<worker> worker::from_env() {
  auto fd = env_number("VIGIL_CHANNEL_FD");
  if (!fd) {
    return error{make_error_code(errc::not_found),
                 "VIGIL_CHANNEL_FD is not set: this program was not started by vigild"};
  }
  auto wake = env_number("VIGIL_WAKE_FD");
  return attach(static_cast<int>(*fd), env_number("VIGIL_NODE").value_or(0),
                wake ? static_cast<int>(*wake) : -1);
}

result<worker> worker::attach(int fd, std::uint32_t node, int wake_fd) {
  ipc::channel_options options;
  options.limits.create_atoms = true; // the worker trusts its daemon
  options.prefault = false;
  // The daemon's death is also signalled by PR_SET_PDEATHSIG; checking its pidfd four
  // times a second is enough and keeps an idle worker idle.
  options.liveness_interval = std::chrono::milliseconds(250);
  options.wake_fd = wake_fd;
  auto ch = ipc::channel::attach(unique_fd(fd), options);
  if (!ch) {
    return ch.error();
  }
  return worker(std::move(*ch), node);
}

reference worker::make_ref() noexcept {
  // Each incarnation has a node of its own: the counter alone makes them unique.
  std::uint64_t n = ++next_ref_;
  return reference{ref_node(node_), static_cast<std::uint32_t>(n >> 32),
                   static_cast<std::uint32_t>(n), 0};
}

result<std::optional<delivery>> worker::receive(std::chrono::nanoseconds timeout) {
  auto r = channel_.receive(timeout);
  if (!r) {
    return r.error();
  }
  if (!r->has_value()) {
    return std::optional<delivery>();
  }
  auto d = as_send(**r);
  if (!d) {
    return error{make_error_code(errc::decode_error),
                 "the daemon sent a frame that is no envelope"};
  }
  return std::optional<delivery>(std::move(*d));
}

result<void> worker::post(const term& frame, std::chrono::nanoseconds max_wait) {
  auto r = channel_.send(frame, ipc::send_policy{ipc::full_policy::wait, max_wait});
  if (!r) {
    return r.error();
  }
  if (*r != ipc::send_status::sent) {
    return error{std::make_error_code(std::errc::timed_out), "the daemon's ring stayed full"};
  }
  return {};
}

result<void> worker::send(pid to, const term& message, std::chrono::nanoseconds max_wait) {
  return post(make_send(to, message), max_wait);
}

result<void> worker::send(atom name, const term& message, std::chrono::nanoseconds max_wait) {
  return post(make_send(name, message), max_wait);
}

result<void> worker::ready(std::string_view status_text) {
  return post(make_ready(status_text), std::chrono::seconds(1));
}

result<void> worker::exit(const term& reason) {
  return post(make_exit(reason), std::chrono::seconds(1));
}

} // namespace vigil::sdk
