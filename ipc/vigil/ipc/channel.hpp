// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"
#include "vigil/ipc/codec.hpp"
#include "vigil/ipc/peer.hpp"
#include "vigil/ipc/ring.hpp"
#include "vigil/ipc/segment.hpp"
#include "vigil/term/term.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// A channel: the terms exchanged between the daemon and one incarnation of an OS-process
/// worker, through one shared-memory segment holding two rings (`ring.hpp`), one each way.
///
/// The daemon *creates* the channel before spawning the worker and hands it the segment's
/// descriptor; the worker *attaches* and answers a version handshake; the daemon *accepts*
/// with the worker's pid, which it watches through a pidfd from then on. Everything the
/// worker writes is untrusted: a garbage frame or index breaks the channel with a reason
/// and never harms the daemon. No call blocks without a bound. docs/ipc.md has the details.
///
/// Thread affinity: one thread at a time per channel (each ring has one writer and one
/// reader, and `send`/`receive` keep unsynchronised counters).
namespace vigil::ipc {

inline constexpr std::uint32_t channel_magic = 0x48434756; // "VGCH" in memory order
inline constexpr std::uint32_t channel_version = 1;

/// Handshake states, in `channel_header::state`.
enum class attach_state : std::uint32_t { empty = 0, offered = 1, attached = 2, refused = 3 };

/// The channel's header at offset 0 of its segment. The creator writes every field before
/// it stores `offered`; the attacher writes its own fields before it stores `attached` or
/// `refused`. `state` is also the futex word the creator sleeps on during the handshake.
struct channel_header {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t wire_version;
  std::int32_t creator_pid;
  std::uint64_t segment_bytes;
  std::uint64_t to_attacher_offset;
  std::uint64_t to_attacher_capacity;
  std::uint64_t to_creator_offset;
  std::uint64_t to_creator_capacity;
  alignas(64) std::atomic<std::uint32_t> state;
  std::uint32_t attacher_version;
  std::uint32_t attacher_wire_version;
  std::int32_t attacher_pid;
};

/// What `send` does when the ring has no room.
enum class full_policy : std::uint8_t {
  wait, ///< wait up to `send_policy::max_wait` for the reader, then give up
  drop, ///< give up at once
};

struct send_policy {
  full_policy on_full = full_policy::wait;
  /// The longest `wait` lasts. Always finite: the daemon never blocks forever on a worker.
  std::chrono::nanoseconds max_wait = std::chrono::milliseconds(100);
};

enum class send_status : std::uint8_t {
  sent,      ///< published in the ring
  dropped,   ///< the ring was full and the policy was `drop`
  timed_out, ///< the ring stayed full for `max_wait`
};

struct channel_options {
  /// Data bytes of each ring (a power of two, at least 1 KiB). A term's frame may use at most
  /// half of it. Set by the creator; the attacher reads it from the header.
  std::size_t ring_capacity = 64 * 1024;
  /// How long a waiting call spins before it sleeps. Keep it short on small machines.
  std::chrono::nanoseconds spin = std::chrono::microseconds(20);
  /// The longest single sleep; the peer's liveness is checked between sleeps.
  std::chrono::nanoseconds liveness_interval = std::chrono::milliseconds(10);
  /// Limits for received frames. The daemon keeps `create_atoms` false; a worker, which
  /// trusts its daemon, may set it.
  decode_limits limits{.create_atoms = false};
  /// Whether to touch every page of the segment when mapping it.
  bool prefault = true;
  /// Attacher only: the creator's wake eventfd (VIGIL_WAKE_FD in a worker), or -1. When set,
  /// the attacher signals it once it has answered the handshake, its writer wakes the
  /// creator through it (ring_writer), and its reader tells a creator waiting for room
  /// through it (ring_reader). Not owned.
  int wake_fd = -1;
};

class channel {
public:
  channel() = default;

  /// The creator's end over a new anonymous segment; pass `fd()` to the child.
  [[nodiscard]] static result<channel> create(const channel_options& options = {});

  /// The creator's end over a named segment (segment::create_named); pass `name()` to the
  /// child. The name is removed once the child has attached.
  [[nodiscard]] static result<channel> create_named(std::uint64_t child, std::uint64_t incarnation,
                                                    const channel_options& options = {},
                                                    std::string_view prefix = "vigil");

  /// The attacher's end over an inherited descriptor: checks the creator's header and
  /// answers the handshake. Errors: decode_error for a segment that is not a channel or
  /// speaks another version (the creator learns why too), or a system error.
  [[nodiscard]] static result<channel> attach(unique_fd fd, const channel_options& options = {});

  /// `attach` by name; the name is removed at once.
  [[nodiscard]] static result<channel> attach_named(std::string_view name,
                                                    const channel_options& options = {});

  /// Creator only: waits at most `timeout` for the process `child` to attach, then watches
  /// it through a pidfd, removes the segment's name and closes the creator's descriptor.
  /// Errors: timed_out; connection_reset if `child` exits first; decode_error when it
  /// refused the handshake or answered with another version.
  result<void> accept(pid_t child, std::chrono::nanoseconds timeout);

  /// Creator only, never waits: false while the attacher has not answered; true once it has
  /// attached (then, as `accept` does, the segment's name is removed and the creator's
  /// descriptor closed). Errors: decode_error when it refused the handshake or answered with
  /// another version. The caller watches the child's liveness itself.
  result<bool> poll_accept();

  /// Sends `t` under `policy`. Errors: limit_exceeded for a term whose frame exceeds half
  /// the ring (the channel stays usable); otherwise the channel is broken (see `failure`):
  /// connection_reset when the peer has exited while the ring was full, decode_error when
  /// the peer corrupted the ring's index.
  result<send_status> send(const term& t, const send_policy& policy = {});

  /// The next term, waiting at most `timeout`; nullopt when none came. Errors break the
  /// channel: decode_error or limit_exceeded for a garbage frame (the context says what and
  /// where), connection_reset once the peer has exited and everything it sent is read.
  result<std::optional<term>> receive(std::chrono::nanoseconds timeout);

  /// The error that broke the channel, if any; every later call returns it.
  [[nodiscard]] const std::optional<error>& failure() const noexcept { return failure_; }

  /// The segment's descriptor (creator, until `accept`), or -1.
  [[nodiscard]] int fd() const noexcept { return segment_.fd(); }

  /// The segment's name, or empty for an anonymous segment.
  [[nodiscard]] const std::string& name() const noexcept { return segment_.name(); }

  /// The other process, once known (accepted, or attached).
  [[nodiscard]] const peer& remote() const noexcept { return peer_; }

  [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }

  [[nodiscard]] std::uint64_t received() const noexcept { return received_; }

  /// Terms not sent because the ring was full (`dropped` and `timed_out` alike).
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

  /// The mapped segment; tests use it to play a misbehaving peer.
  [[nodiscard]] std::span<std::byte> memory() const noexcept { return segment_.bytes(); }

private:
  static result<channel> offer(segment seg, const channel_options& options);
  static result<channel> answer(segment seg, const channel_options& options);
  [[nodiscard]] channel_header& header() const noexcept;
  error fail(error e);
  error peer_exited();
  result<void> check_answer();

  segment segment_;
  ring_writer writer_;
  ring_reader reader_;
  peer peer_;
  channel_options options_;
  std::optional<error> failure_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t dropped_ = 0;
};

} // namespace vigil::ipc
