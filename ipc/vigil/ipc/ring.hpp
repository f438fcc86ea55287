// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/ipc/codec.hpp"
#include "vigil/term/term.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>

/// A lock-free single-producer/single-consumer ring of frames in shared memory.
///
/// The ring is a header followed by `capacity` data bytes (a power of two). `head` counts the
/// bytes the writer has published and `tail` the bytes the reader has consumed; both only
/// grow, and a position in the data is the count modulo the capacity. Each record starts at a
/// multiple of 8 and is one codec frame (`codec.hpp`) padded to a multiple of 8. A frame never
/// wraps: when it does not fit before the end, the writer puts a single 0x00 byte (a version
/// no frame has) where it would start, meaning "skip to the end", and writes the frame at 0.
/// The writer publishes `head` only after the whole frame is copied, so a writer killed
/// mid-copy leaves nothing visible. Each side keeps its own index and the capacity privately
/// and treats the other side's index as untrusted: an impossible index or a malformed frame is
/// an error, never an out-of-bounds access. docs/ipc.md draws the layout.
///
/// Thread affinity: one thread (or process) owns the `ring_writer`, one the `ring_reader`.
namespace vigil::ipc {

inline constexpr std::uint32_t ring_magic = 0x474e5256; // "VRNG" in memory order
inline constexpr std::uint32_t ring_version = 1;
inline constexpr std::size_t min_ring_capacity = 1024;
inline constexpr std::size_t max_ring_capacity = std::size_t{1} << 30;

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

/// The ring's header as laid out in shared memory. The indices and each futex word sit on
/// cache lines of their own, so that the two sides do not invalidate each other's lines.
struct ring_header {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint64_t capacity;
  /// Bytes published; written by the writer only.
  alignas(64) std::atomic<std::uint64_t> head;
  /// Bytes consumed; written by the reader only.
  alignas(64) std::atomic<std::uint64_t> tail;
  /// 1 while the reader sleeps (or is about to) on this futex word; the writer resets it to 0
  /// and wakes the reader after publishing.
  alignas(64) std::atomic<std::uint32_t> reader_sleeping;
  /// 1 while the writer sleeps for room; the reader resets it and wakes the writer.
  alignas(64) std::atomic<std::uint32_t> writer_sleeping;
};

/// Bytes a ring with `capacity` data bytes occupies; a multiple of 64.
[[nodiscard]] constexpr std::size_t ring_bytes(std::size_t capacity) noexcept {
  return sizeof(ring_header) + capacity;
}

/// Where one ring lives, with the capacity this side trusts. Cheap to copy; owns nothing.
class ring_view {
public:
  ring_view() noexcept = default;

  /// Lays out a new, empty ring of `capacity` data bytes at the start of `memory`, which
  /// must be 64-byte aligned and hold `ring_bytes(capacity)` bytes. Errors: invalid_argument.
  [[nodiscard]] static result<ring_view> create(std::span<std::byte> memory, std::size_t capacity);

  /// Checks the header that `create` wrote at the start of `memory` (magic, version, a
  /// capacity that is a power of two in range and fits `memory`). Errors: decode_error.
  [[nodiscard]] static result<ring_view> attach(std::span<std::byte> memory);

  [[nodiscard]] ring_header& header() const noexcept { return *header_; }

  [[nodiscard]] std::byte* data() const noexcept { return data_; }

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
  ring_view(ring_header* h, std::size_t capacity) noexcept;

  ring_header* header_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t capacity_ = 0;
};

/// How long to spin before sleeping, learnt from how waits ended. Spinning pays only while
/// the peer runs on another core; on an oversubscribed machine it keeps the peer off the CPU
/// and every wait lasts the whole spin. So a wait that had to sleep halves the budget, one
/// that ended while spinning doubles it, and every 32nd wait probes with the full budget so
/// that a quiet machine wins spinning back.
class adaptive_spin {
public:
  /// The spin for the next wait, at most `max`.
  [[nodiscard]] std::chrono::nanoseconds next(std::chrono::nanoseconds max) noexcept;

  /// Records how the wait that `next` budgeted ended.
  void record(bool ended_while_spinning, std::chrono::nanoseconds max) noexcept;

private:
  std::chrono::nanoseconds budget_ = std::chrono::nanoseconds::max();
  std::uint32_t waits_ = 0;
};

/// Adds 1 to the eventfd `fd` (a ring's wake descriptor); never blocks.
void signal_eventfd(int fd) noexcept;

/// The producing end of a ring.
class ring_writer {
public:
  ring_writer() noexcept = default;

  /// Writes after whatever `view` already holds. With a `wake_fd` (an eventfd), a reader
  /// that announced that it sleeps is woken by writing 1 to that descriptor instead of by
  /// `FUTEX_WAKE`: a reader that waits on many rings at once (epoll) watches the eventfd.
  /// The descriptor is not owned.
  explicit ring_writer(ring_view view, int wake_fd = -1) noexcept;

  /// The largest frame, header included, that this ring takes: half its capacity.
  [[nodiscard]] std::size_t max_frame() const noexcept { return view_.capacity() / 2; }

  /// Encodes `t` straight into the ring and publishes it. Returns false, writing nothing,
  /// when there is no room now. Errors: limit_exceeded for a frame over `max_frame()` (the
  /// ring stays usable); decode_error when the reader's tail is impossible (the ring is not).
  result<bool> try_write(const term& t);

  /// `try_write` for a frame already encoded. The bytes are copied as they are: the reader
  /// validates them.
  result<bool> try_write_frame(std::span<const std::byte> frame);

  /// Spins for at most `spin` (less while spinning has not been paying, see
  /// `adaptive_spin`), then sleeps for at most `sleep`, until a frame of `frame_bytes` would
  /// fit. May return early; callers re-try and keep their own deadline.
  void wait_writable(std::size_t frame_bytes, std::chrono::nanoseconds spin,
                     std::chrono::nanoseconds sleep);

private:
  result<std::byte*> reserve(std::size_t frame_bytes);
  void publish();
  [[nodiscard]] bool fits(std::size_t frame_bytes);

  ring_view view_;
  adaptive_spin spin_;
  int wake_fd_ = -1;
  std::uint64_t head_ = 0;
  std::uint64_t cached_tail_ = 0;
  std::uint64_t pending_ = 0;
};

/// The consuming end of a ring. Once it has met a bad index or frame it stays failed: every
/// later call returns that same error, since nothing after garbage can be trusted.
class ring_reader {
public:
  ring_reader() noexcept = default;

  /// Reads from where `view`'s tail stands; `limits` apply to every frame. With a `wake_fd`
  /// (an eventfd), a writer that announced that it waits for room is also told by writing 1
  /// to that descriptor, besides `FUTEX_WAKE`: a writer in an event loop (vigild's port,
  /// through its reactor) watches the eventfd. The descriptor is not owned.
  ring_reader(ring_view view, decode_limits limits, int wake_fd = -1) noexcept;

  /// Copies the next whole frame into `frame`. Returns false when the ring is empty.
  /// Errors: decode_error or limit_exceeded for a frame or index the writer could not
  /// honestly have produced; the context names the ring position.
  result<bool> try_read_frame(std::string& frame);

  /// Reads and decodes the next term; nullopt when the ring is empty. Errors as for
  /// `try_read_frame`, and any `decode` error of the frame.
  result<std::optional<term>> try_read();

  /// Whether the writer has published bytes not yet read (possibly garbage).
  [[nodiscard]] bool readable() const noexcept;

  /// For a reader that waits elsewhere (an epoll on the writer's wake eventfd) rather than in
  /// `wait_readable`: announces that it is about to sleep, then re-checks. Returns true when
  /// input arrived meanwhile (do not sleep: read it); false when the writer's next publish
  /// will wake it. The announcement pairs with the writer's "publish, then look" as the futex
  /// sleep does, so a wake-up cannot be lost.
  [[nodiscard]] bool announce_sleep() noexcept;

  /// Spins for at most `spin` (as `ring_writer::wait_writable` does), then sleeps for at
  /// most `sleep`, until `readable()`. May return early.
  void wait_readable(std::chrono::nanoseconds spin, std::chrono::nanoseconds sleep);

  /// The error that failed this reader, if any.
  [[nodiscard]] const std::optional<error>& failure() const noexcept { return failure_; }

private:
  error fail(std::uint64_t position, std::string what,
             std::error_code code = make_error_code(errc::decode_error));
  result<std::uint64_t> available();
  result<std::uint64_t> skip_padding(std::uint64_t avail);
  void consume(std::uint64_t bytes);

  ring_view view_;
  adaptive_spin spin_;
  decode_limits limits_;
  int wake_fd_ = -1;
  std::uint64_t tail_ = 0;
  std::uint64_t cached_head_ = 0;
  std::string scratch_;
  std::optional<error> failure_;
};

} // namespace vigil::ipc
