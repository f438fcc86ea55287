// SPDX-License-Identifier: Apache-2.0
// channel: a shared-memory segment with a ring each way between the daemon and one worker.
// The handshake (create or offer, attach or answer, accept), then send and receive of terms
// with deadlines and a policy for a full ring; a dead peer is an error, not a hang.
#include "vigil/ipc/channel.hpp"

#include "vigil/common/futex.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <utility>

namespace vigil::ipc {

namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t header_bytes = 256;
// The layout docs/ipc.md documents.
static_assert(offsetof(channel_header, segment_bytes) == 16
              && offsetof(channel_header, to_creator_capacity) == 48
              && offsetof(channel_header, state) == 64
              && offsetof(channel_header, attacher_pid) == 76 && sizeof(channel_header) == 128);

error decode_failure(std::string context) {
  return error{make_error_code(errc::decode_error), std::move(context)};
}

/// `now + timeout`, with the timeout clamped so that the sum cannot overflow.
clock::time_point deadline_after(std::chrono::nanoseconds timeout) {
  constexpr auto longest =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::hours(24 * 365));
  return clock::now() + std::min(timeout, longest);
}

std::chrono::nanoseconds left(clock::time_point deadline) {
  return std::max(std::chrono::nanoseconds(0), deadline - clock::now());
}

/// Validates the creator's header fields against the mapped size. The attacher trusts its
/// daemon, but a check costs nothing and turns a wrong descriptor into a clear error.
result<void> check_layout(const channel_header& h, std::size_t size) {
  auto fits = [&](std::uint64_t offset, std::uint64_t capacity) {
    return offset % 64 == 0 && offset >= header_bytes && capacity <= max_ring_capacity
           && offset <= size && ring_bytes(capacity) <= size - offset;
  };
  if (h.segment_bytes != size || !fits(h.to_attacher_offset, h.to_attacher_capacity)
      || !fits(h.to_creator_offset, h.to_creator_capacity)
      || h.to_creator_offset < h.to_attacher_offset + ring_bytes(h.to_attacher_capacity)) {
    return decode_failure("channel header describes rings that do not fit its "
                          + std::to_string(size) + "-byte segment");
  }
  return {};
}

} // namespace

channel_header& channel::header() const noexcept {
  return *std::launder(reinterpret_cast<channel_header*>(segment_.bytes().data()));
}

error channel::fail(error e) {
  if (peer_.valid()) {
    e.context = "channel to process " + std::to_string(peer_.pid()) + ": " + e.context;
  }
  failure_ = std::move(e);
  return *failure_;
}

error channel::peer_exited() {
  return fail(error{std::make_error_code(std::errc::connection_reset), "the process has exited"});
}

result<channel> channel::create(const channel_options& options) {
  std::size_t cap = options.ring_capacity;
  auto seg = segment::create(header_bytes + 2 * ring_bytes(cap), options.prefault);
  if (!seg) {
    return seg.error();
  }
  return offer(std::move(*seg), options);
}

result<channel> channel::create_named(std::uint64_t child, std::uint64_t incarnation,
                                      const channel_options& options, std::string_view prefix) {
  std::size_t cap = options.ring_capacity;
  auto seg = segment::create_named(header_bytes + 2 * ring_bytes(cap), child, incarnation, prefix,
                                   options.prefault);
  if (!seg) {
    return seg.error();
  }
  return offer(std::move(*seg), options);
}

result<channel> channel::offer(segment seg, const channel_options& options) {
  std::size_t cap = options.ring_capacity;
  auto mem = seg.bytes();
  auto down = ring_view::create(mem.subspan(header_bytes), cap);
  if (!down) {
    return down.error();
  }
  auto up = ring_view::create(mem.subspan(header_bytes + ring_bytes(cap)), cap);
  if (!up) {
    return up.error();
  }
  auto* h = std::construct_at(reinterpret_cast<channel_header*>(mem.data()));
  h->magic = channel_magic;
  h->version = channel_version;
  h->wire_version = wire_version;
  h->creator_pid = ::getpid();
  h->segment_bytes = mem.size();
  h->to_attacher_offset = header_bytes;
  h->to_attacher_capacity = cap;
  h->to_creator_offset = header_bytes + ring_bytes(cap);
  h->to_creator_capacity = cap;
  h->state.store(static_cast<std::uint32_t>(attach_state::offered), std::memory_order_release);
  channel out;
  out.segment_ = std::move(seg);
  out.writer_ = ring_writer(*down);
  out.reader_ = ring_reader(*up, options.limits);
  out.options_ = options;
  return out;
}

result<channel> channel::attach(unique_fd fd, const channel_options& options) {
  auto seg = segment::attach(std::move(fd), options.prefault);
  if (!seg) {
    return seg.error();
  }
  return answer(std::move(*seg), options);
}

result<channel> channel::attach_named(std::string_view name, const channel_options& options) {
  auto seg = segment::open_named(name, options.prefault);
  if (!seg) {
    return seg.error();
  }
  return answer(std::move(*seg), options);
}

result<channel> channel::answer(segment seg, const channel_options& options) {
  auto mem = seg.bytes();
  if (mem.size() < header_bytes) {
    return decode_failure("segment of " + std::to_string(mem.size()) + " bytes is no channel");
  }
  auto* h = std::launder(reinterpret_cast<channel_header*>(mem.data()));
  if (h->state.load(std::memory_order_acquire) != static_cast<std::uint32_t>(attach_state::offered)
      || h->magic != channel_magic) {
    return decode_failure("segment holds no channel offer");
  }
  h->attacher_version = channel_version;
  h->attacher_wire_version = wire_version;
  h->attacher_pid = ::getpid();
  result<void> ok;
  if (h->version != channel_version || h->wire_version != wire_version) {
    ok = decode_failure("daemon speaks channel version " + std::to_string(h->version) + " (wire "
                        + std::to_string(h->wire_version) + "), this process "
                        + std::to_string(channel_version) + " (wire " + std::to_string(wire_version)
                        + ")");
  } else {
    ok = check_layout(*h, mem.size());
  }
  auto down = ring_view::attach(mem.subspan(ok ? h->to_attacher_offset : 0));
  auto up = ring_view::attach(mem.subspan(ok ? h->to_creator_offset : 0));
  if (ok && (!down || !up)) {
    ok = !down ? down.error() : up.error();
  }
  if (!ok) {
    h->state.store(static_cast<std::uint32_t>(attach_state::refused), std::memory_order_release);
    futex::wake(h->state);
    if (options.wake_fd >= 0) {
      signal_eventfd(options.wake_fd);
    }
    return ok.error();
  }
  channel out;
  if (auto p = peer::open(h->creator_pid)) {
    out.peer_ = std::move(*p);
  }
  h->state.store(static_cast<std::uint32_t>(attach_state::attached), std::memory_order_release);
  futex::wake(h->state);
  if (options.wake_fd >= 0) {
    signal_eventfd(options.wake_fd);
  }
  out.segment_ = std::move(seg);
  out.writer_ = ring_writer(*up, options.wake_fd);
  out.reader_ = ring_reader(*down, options.limits, options.wake_fd);
  out.options_ = options;
  return out;
}

result<void> channel::check_answer() {
  auto& h = header();
  auto state = static_cast<attach_state>(h.state.load(std::memory_order_acquire));
  std::uint32_t version = h.attacher_version;
  std::uint32_t wire = h.attacher_wire_version;
  if (state == attach_state::attached && version == channel_version && wire == wire_version) {
    return {};
  }
  return fail(decode_failure(std::string(state == attach_state::refused ? "refused" : "answered")
                             + " the handshake speaking channel version " + std::to_string(version)
                             + " (wire " + std::to_string(wire) + "); the daemon speaks "
                             + std::to_string(channel_version) + " (wire "
                             + std::to_string(wire_version) + ")"));
}

result<void> channel::accept(pid_t child, std::chrono::nanoseconds timeout) {
  auto p = peer::open(child);
  if (!p) {
    return p.error();
  }
  peer_ = std::move(*p);
  auto deadline = deadline_after(timeout);
  auto& state = header().state;
  constexpr auto offered = static_cast<std::uint32_t>(attach_state::offered);
  while (state.load(std::memory_order_acquire) == offered) {
    if (peer_.exited()) {
      return peer_exited();
    }
    auto wait = std::min(left(deadline), options_.liveness_interval);
    if (wait.count() == 0) {
      return fail(
          error{std::make_error_code(std::errc::timed_out), "the process did not attach in time"});
    }
    futex::wait(state, offered, wait);
  }
  if (auto ok = check_answer(); !ok) {
    return ok;
  }
  segment_.close_fd();
  return segment_.unlink();
}

result<bool> channel::poll_accept() {
  if (failure_) {
    return *failure_;
  }
  constexpr auto offered = static_cast<std::uint32_t>(attach_state::offered);
  if (header().state.load(std::memory_order_acquire) == offered) {
    return false;
  }
  if (auto ok = check_answer(); !ok) {
    return ok.error();
  }
  segment_.close_fd();
  if (auto ok = segment_.unlink(); !ok) {
    return ok.error();
  }
  return true;
}

result<send_status> channel::send(const term& t, const send_policy& policy) {
  if (failure_) {
    return *failure_;
  }
  auto deadline = deadline_after(policy.max_wait);
  std::size_t size = 0;
  for (;;) {
    auto r = writer_.try_write(t);
    if (!r) {
      if (r.error().code == make_error_code(errc::limit_exceeded)) {
        return r.error();
      }
      return fail(r.error());
    }
    if (*r) {
      ++sent_;
      return send_status::sent;
    }
    if (peer_.exited()) {
      return peer_exited();
    }
    auto wait = std::min(left(deadline), options_.liveness_interval);
    if (policy.on_full == full_policy::drop || wait.count() == 0) {
      ++dropped_;
      return policy.on_full == full_policy::drop ? send_status::dropped : send_status::timed_out;
    }
    size = size != 0 ? size : encoded_size(t);
    writer_.wait_writable(size, options_.spin, wait);
  }
}

result<std::optional<term>> channel::receive(std::chrono::nanoseconds timeout) {
  if (failure_) {
    return *failure_;
  }
  auto deadline = deadline_after(timeout);
  for (bool waited = false;; waited = true) {
    auto r = reader_.try_read();
    if (!r) {
      return fail(r.error());
    }
    if (r->has_value()) {
      ++received_;
      return r;
    }
    // Only after a wait (or when not waiting at all) is it worth a system call to ask
    // whether the peer is gone; whatever it published before dying is visible by then.
    if ((waited || timeout.count() <= 0) && peer_.exited()) {
      if (reader_.readable()) {
        continue;
      }
      return peer_exited();
    }
    auto wait = std::min(left(deadline), options_.liveness_interval);
    if (wait.count() == 0) {
      return std::optional<term>();
    }
    reader_.wait_readable(options_.spin, wait);
  }
}

} // namespace vigil::ipc
