// SPDX-License-Identifier: Apache-2.0
// The SPSC ring in shared memory: its header created or attached, the writer's reserve and
// publish and the reader's consume of frames, each checked against a peer that may be
// corrupt, and the spin-then-futex wake protocol between the two sides.
#include "vigil/ipc/ring.hpp"

#include "vigil/common/futex.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>

namespace vigil::ipc {

// The layout docs/ipc.md documents for implementations in other languages.
static_assert(offsetof(ring_header, capacity) == 8 && offsetof(ring_header, head) == 64
              && offsetof(ring_header, tail) == 128 && offsetof(ring_header, reader_sleeping) == 192
              && offsetof(ring_header, writer_sleeping) == 256 && sizeof(ring_header) == 320);

namespace {

using clock = std::chrono::steady_clock;

constexpr std::uint64_t align8(std::uint64_t n) noexcept {
  return (n + 7) & ~std::uint64_t{7};
}

constexpr std::byte pad_marker{0};

bool valid_capacity(std::uint64_t capacity) noexcept {
  return std::has_single_bit(capacity) && capacity >= min_ring_capacity
         && capacity <= max_ring_capacity;
}

/// Spins until `ready()` or `spin` has passed; reads the clock only every 64 turns.
template <class Ready>
bool spin_until(Ready ready, std::chrono::nanoseconds spin) {
  if (ready()) {
    return true;
  }
  if (spin.count() <= 0) {
    return false;
  }
  auto until = clock::now() + std::min(spin, std::chrono::nanoseconds(std::chrono::seconds(1)));
  for (unsigned i = 1;; ++i) {
    futex::cpu_relax();
    if (ready()) {
      return true;
    }
    if ((i & 63) == 0 && clock::now() >= until) {
      return false;
    }
  }
}

/// The sleeping half of the wake protocol. Announcing first and re-checking after pairs with
/// the peer's "publish, then look at the flag" (both sequentially consistent): either the
/// peer sees the flag and wakes us, or we see its update and do not sleep.
template <class Ready>
void sleep_until(std::atomic<std::uint32_t>& flag, Ready ready, std::chrono::nanoseconds sleep) {
  flag.store(1, std::memory_order_seq_cst);
  if (!ready()) {
    futex::wait(flag, 1, sleep);
  }
  flag.store(0, std::memory_order_relaxed);
}

/// The waking half: only when the peer announced that it sleeps, so that the common case
/// costs one load and no system call. Whether it woke the peer.
bool wake_if_sleeping(std::atomic<std::uint32_t>& flag) {
  if (flag.load(std::memory_order_seq_cst) != 0 && flag.exchange(0) != 0) {
    futex::wake(flag);
    return true;
  }
  return false;
}

} // namespace

void signal_eventfd(int fd) noexcept {
  std::uint64_t one = 1;
  // EAGAIN means the counter is already far from zero: the reader will wake anyway.
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

std::chrono::nanoseconds adaptive_spin::next(std::chrono::nanoseconds max) noexcept {
  constexpr std::uint32_t probe_every = 32;
  return ++waits_ % probe_every == 0 ? max : std::min(budget_, max);
}

void adaptive_spin::record(bool ended_while_spinning, std::chrono::nanoseconds max) noexcept {
  constexpr auto floor = std::chrono::nanoseconds(500);
  if (ended_while_spinning) {
    budget_ = std::min(max, std::max(floor * 2, budget_ < max / 2 ? budget_ * 2 : max));
  } else {
    budget_ = std::min(budget_, max) / 2;
    budget_ = budget_ < floor ? std::chrono::nanoseconds(0) : budget_;
  }
}

ring_view::ring_view(ring_header* h, std::size_t capacity) noexcept
    : header_(h), data_(reinterpret_cast<std::byte*>(h) + sizeof(ring_header)),
      capacity_(capacity) {}

result<ring_view> ring_view::create(std::span<std::byte> memory, std::size_t capacity) {
  if (!valid_capacity(capacity) || memory.size() < ring_bytes(capacity)
      || reinterpret_cast<std::uintptr_t>(memory.data()) % alignof(ring_header) != 0) {
    return error{make_error_code(errc::invalid_argument),
                 "ring of " + std::to_string(capacity) + " bytes does not fit its memory"};
  }
  auto* h = std::construct_at(reinterpret_cast<ring_header*>(memory.data()));
  h->magic = ring_magic;
  h->version = ring_version;
  h->capacity = capacity;
  h->head.store(0, std::memory_order_relaxed);
  h->tail.store(0, std::memory_order_relaxed);
  h->reader_sleeping.store(0, std::memory_order_relaxed);
  h->writer_sleeping.store(0, std::memory_order_release);
  return ring_view(h, capacity);
}

result<ring_view> ring_view::attach(std::span<std::byte> memory) {
  if (memory.size() < sizeof(ring_header)
      || reinterpret_cast<std::uintptr_t>(memory.data()) % alignof(ring_header) != 0) {
    return error{make_error_code(errc::decode_error), "ring memory too small or misaligned"};
  }
  // The header was built by `create`, possibly in another process; launder makes that
  // object reachable through this pointer.
  auto* h = std::launder(reinterpret_cast<ring_header*>(memory.data()));
  std::uint64_t capacity = h->capacity;
  if (h->magic != ring_magic || h->version != ring_version) {
    return error{make_error_code(errc::decode_error),
                 "ring has magic " + std::to_string(h->magic) + " and version "
                     + std::to_string(h->version) + ", expected version "
                     + std::to_string(ring_version)};
  }
  if (!valid_capacity(capacity) || memory.size() < ring_bytes(capacity)) {
    return error{make_error_code(errc::decode_error),
                 "ring capacity " + std::to_string(capacity) + " is invalid or exceeds "
                     + std::to_string(memory.size()) + " bytes of memory"};
  }
  return ring_view(h, capacity);
}

ring_writer::ring_writer(ring_view view, int wake_fd) noexcept
    : view_(view), wake_fd_(wake_fd), head_(view.header().head.load(std::memory_order_relaxed)),
      cached_tail_(view.header().tail.load(std::memory_order_acquire)) {}

bool ring_writer::fits(std::size_t frame_bytes) {
  std::uint64_t n = align8(frame_bytes);
  std::uint64_t cap = view_.capacity();
  std::uint64_t to_end = cap - (head_ & (cap - 1));
  std::uint64_t need = n <= to_end ? n : to_end + n;
  std::uint64_t used = head_ - cached_tail_;
  if (used <= cap && cap - used >= need) {
    return true;
  }
  cached_tail_ = view_.header().tail.load(std::memory_order_acquire);
  used = head_ - cached_tail_;
  // An impossible tail counts as "fits" here so that `reserve` reports it.
  return used > cap || cap - used >= need;
}

result<std::byte*> ring_writer::reserve(std::size_t frame_bytes) {
  if (frame_bytes > max_frame() || frame_bytes < header_size) {
    return error{make_error_code(errc::limit_exceeded), "frame of " + std::to_string(frame_bytes)
                                                            + " bytes exceeds the ring's limit of "
                                                            + std::to_string(max_frame())};
  }
  if (!fits(frame_bytes)) {
    return nullptr;
  }
  std::uint64_t cap = view_.capacity();
  if (head_ - cached_tail_ > cap) {
    return error{make_error_code(errc::decode_error),
                 "reader's tail " + std::to_string(cached_tail_) + " is impossible for head "
                     + std::to_string(head_)};
  }
  std::uint64_t n = align8(frame_bytes);
  std::uint64_t pos = head_ & (cap - 1);
  std::uint64_t to_end = cap - pos;
  if (n <= to_end) {
    pending_ = n;
    return view_.data() + pos;
  }
  view_.data()[pos] = pad_marker;
  pending_ = to_end + n;
  return view_.data();
}

void ring_writer::publish() {
  head_ += pending_;
  pending_ = 0;
  view_.header().head.store(head_, std::memory_order_seq_cst);
  if (wake_fd_ < 0) {
    wake_if_sleeping(view_.header().reader_sleeping);
    return;
  }
  // The reader waits in epoll on the eventfd, not on the futex word.
  auto& flag = view_.header().reader_sleeping;
  if (flag.load(std::memory_order_seq_cst) != 0 && flag.exchange(0) != 0) {
    signal_eventfd(wake_fd_);
  }
}

result<bool> ring_writer::try_write(const term& t) {
  std::size_t size = encoded_size(t);
  auto slot = reserve(size);
  if (!slot) {
    return slot.error();
  }
  if (*slot == nullptr) {
    return false;
  }
  encode_into(t, std::span(*slot, size));
  publish();
  return true;
}

result<bool> ring_writer::try_write_frame(std::span<const std::byte> frame) {
  auto slot = reserve(frame.size());
  if (!slot) {
    return slot.error();
  }
  if (*slot == nullptr) {
    return false;
  }
  std::memcpy(*slot, frame.data(), frame.size());
  publish();
  return true;
}

void ring_writer::wait_writable(std::size_t frame_bytes, std::chrono::nanoseconds spin,
                                std::chrono::nanoseconds sleep) {
  auto ready = [&] { return fits(frame_bytes); };
  bool spun = spin_until(ready, spin_.next(spin));
  spin_.record(spun, spin);
  if (!spun) {
    sleep_until(view_.header().writer_sleeping, ready, sleep);
  }
}

ring_reader::ring_reader(ring_view view, decode_limits limits, int wake_fd) noexcept
    : view_(view), limits_(limits), wake_fd_(wake_fd),
      tail_(view.header().tail.load(std::memory_order_relaxed)), cached_head_(tail_) {
  // Records start at multiples of 8, which is what lets a 5-byte frame header never straddle
  // the end of the ring.
  if (tail_ % 8 != 0) {
    (void)fail(tail_, "reader's tail is not a multiple of 8");
  }
}

error ring_reader::fail(std::uint64_t position, std::string what, std::error_code code) {
  failure_ = error{code, "ring position " + std::to_string(position) + ": " + std::move(what)};
  return *failure_;
}

result<std::uint64_t> ring_reader::available() {
  if (cached_head_ == tail_) {
    cached_head_ = view_.header().head.load(std::memory_order_acquire);
  }
  std::uint64_t avail = cached_head_ - tail_;
  if (avail > view_.capacity() || cached_head_ % 8 != 0) {
    return fail(tail_, "writer's head " + std::to_string(cached_head_) + " is impossible");
  }
  return avail;
}

void ring_reader::consume(std::uint64_t bytes) {
  tail_ += bytes;
  view_.header().tail.store(tail_, std::memory_order_seq_cst);
  // Wake a writer that waits for room only once half the ring is free, so that it wakes
  // once per half ring and not once per frame. The head may be stale, which only wakes it
  // sooner; a writer that still finds no room sleeps again, at most for its bound.
  if (cached_head_ - tail_ <= view_.capacity() / 2) {
    // A writer in an event loop (vigild's port) waits on the eventfd, not the futex word.
    if (wake_if_sleeping(view_.header().writer_sleeping) && wake_fd_ >= 0) {
      signal_eventfd(wake_fd_);
    }
  }
}

result<std::uint64_t> ring_reader::skip_padding(std::uint64_t avail) {
  std::uint64_t pos = tail_ & (view_.capacity() - 1);
  std::uint64_t to_end = view_.capacity() - pos;
  if (view_.data()[pos] != pad_marker) {
    return avail;
  }
  // An honest writer pads only when the frame after it did not fit before the end, and
  // publishes both at once.
  if (pos == 0 || avail <= to_end) {
    return fail(tail_, "padding where no frame can follow");
  }
  tail_ += to_end;
  return avail - to_end;
}

result<bool> ring_reader::try_read_frame(std::string& frame) {
  if (failure_) {
    return *failure_;
  }
  auto avail = available();
  if (!avail) {
    return avail.error();
  }
  if (*avail == 0) {
    return false;
  }
  if (avail = skip_padding(*avail); !avail) {
    return avail.error();
  }
  std::uint64_t pos = tail_ & (view_.capacity() - 1);
  std::uint64_t to_end = view_.capacity() - pos;
  const std::byte* at = view_.data() + pos;
  // Copy the header once and judge that copy: the writer may still be changing the bytes.
  std::byte header[header_size];
  std::memcpy(header, at, header_size);
  auto size = frame_size(std::span<const std::byte>(header, header_size), limits_);
  if (!size) {
    return fail(tail_, size.error().context, size.error().code);
  }
  std::uint64_t record = align8(*size);
  if (record > to_end || record > *avail) {
    return fail(tail_, "frame of " + std::to_string(*size) + " bytes overruns the "
                           + std::to_string(std::min(*avail, to_end)) + " bytes published");
  }
  frame.resize(*size);
  std::memcpy(frame.data(), header, header_size);
  std::memcpy(frame.data() + header_size, at + header_size, *size - header_size);
  consume(record);
  return true;
}

result<std::optional<term>> ring_reader::try_read() {
  std::uint64_t at = tail_;
  auto got = try_read_frame(scratch_);
  if (!got) {
    return got.error();
  }
  if (!*got) {
    return std::optional<term>();
  }
  auto decoded = decode(scratch_, limits_);
  if (!decoded) {
    failure_ = error{decoded.error().code,
                     "ring position " + std::to_string(at) + ": " + decoded.error().context};
    return *failure_;
  }
  return std::optional<term>(std::move(*decoded));
}

bool ring_reader::readable() const noexcept {
  return view_.header().head.load(std::memory_order_seq_cst) != tail_;
}

bool ring_reader::announce_sleep() noexcept {
  auto& flag = view_.header().reader_sleeping;
  flag.store(1, std::memory_order_seq_cst);
  if (readable()) {
    flag.store(0, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void ring_reader::wait_readable(std::chrono::nanoseconds spin, std::chrono::nanoseconds sleep) {
  if (cached_head_ != tail_) {
    return;
  }
  auto ready = [&] { return readable(); };
  bool spun = spin_until(ready, spin_.next(spin));
  spin_.record(spun, spin);
  if (!spun) {
    sleep_until(view_.header().reader_sleeping, ready, sleep);
  }
}

} // namespace vigil::ipc
