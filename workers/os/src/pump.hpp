// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/runtime/runtime.hpp"

#include "os_child.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

namespace vigil::os::detail {

/// What a pump needs from its service.
struct pump_hooks {
  runtime* rt = nullptr;
  /// Delivers to a pid of another OS worker's node.
  std::function<void(pid to, term message)> route;
  /// The daemon's own processes, which no worker may reach (service_options::is_protected).
  std::function<bool(pid)> is_protected;
  /// How long the child may take to attach; a vigil-worker that misses it is killed. A
  /// command (which may never speak the channel) may attach whenever it likes.
  std::chrono::nanoseconds attach_timeout;
  bool must_attach = false;
  /// While the daemon process a send goes to has this many messages waiting (as it last
  /// saw them), the pump holds that send and reads no further: the worker's ring fills and
  /// its sends wait, so that no worker can grow a daemon process's mailbox without bound.
  std::uint32_t max_waiting = default_max_waiting;

  static constexpr std::uint32_t default_max_waiting = 10'000;
};

/// The reading end of one child's channel, driven by the reactor's thread: no thread of its
/// own. The child's writer signals the child's wake eventfd (os_child::wake, which the
/// reactor's epoll watches) when it attaches and when it publishes to a reader that
/// announced its sleep; the reactor then calls `serve`. Frames are delivered in order:
/// {:send, to, message} to `to` if the child may send there (capabilities.hpp), {:exit,
/// reason} and the first {:ready, text} kept for the reactor (os_child::exit_frame,
/// ready_frame). A frame that is garbage, or no envelope, breaks the channel
/// and kills the child (os_child::fail_channel); so does, for a vigil-worker, a refused
/// handshake or none within `attach_timeout`.
///
/// The child is untrusted: whatever it does to its eventfd or ring, one call handles at most
/// `budget` frames, so the reactor can serve every other child between two calls.
class channel_pump {
public:
  enum class progress {
    idle,    ///< nothing left; the child's next publish signals the eventfd
    more,    ///< the budget ran out with frames left: call again after serving the others
    closed,  ///< the channel is broken or was refused; nothing more will be read
    blocked, ///< a send waits for its target to catch up: call again at `retry_at()`
  };

  channel_pump(os_child& c, const pump_hooks& hooks);
  // Its sinks call back into it (send_sinks::behind): it stays where it was made.
  channel_pump(const channel_pump&) = delete;
  channel_pump& operator=(const channel_pump&) = delete;
  channel_pump(channel_pump&&) = delete;
  channel_pump& operator=(channel_pump&&) = delete;
  ~channel_pump() = default;

  /// Looks at the handshake until the child has attached, then delivers at most `budget`
  /// frames.
  progress serve(std::size_t budget);

  /// The child has exited: delivers what it published before (bounded, since a descendant
  /// may still hold the mapping), so that its frames reach the daemon before its exit is
  /// reported. Nothing is read afterwards.
  void drain();

  /// The attach deadline has passed: kills a vigil-worker that has not attached yet.
  void attach_deadline_passed();

  /// When a vigil-worker must have attached by; nullopt for a command.
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> attach_deadline() const {
    return deadline_;
  }

  [[nodiscard]] bool attached() const { return reader_.has_value(); }

  /// When a blocked pump should look again: 1 ms after it blocked, then twice as long each
  /// time its target is still behind, up to 64 ms. No signal says a mailbox has shrunk, so
  /// this is a poll; backing off keeps a target stuck for good from costing a wake-up a ms.
  [[nodiscard]] std::chrono::steady_clock::time_point retry_at() const { return retry_at_; }

private:
  /// Whether daemon process `to` has `max_waiting` messages or more (send_sinks::behind):
  /// deliver_checked asks only for a send the worker may make, so a send it may not make is
  /// refused at once, never held on a process the worker cannot reach.
  [[nodiscard]] bool behind(pid to) const;
  /// Delivers `frame`; nullopt when it is taken, else what `serve` returns: blocked (it is
  /// held), or closed (it is no envelope, and the channel is failed).
  std::optional<progress> deliver_frame(term frame);
  /// Holds `frame` until its target catches up.
  progress hold(term frame);

  /// False when the child has not attached yet, or the handshake failed.
  bool check_attached();

  void close() { closed_ = true; }

  os_child& c_;
  send_sinks sinks_;
  bool must_attach_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::optional<ipc::ring_reader> reader_;
  bool closed_ = false;
  runtime* rt_;
  std::uint32_t max_waiting_;
  std::optional<term> held_; ///< a send whose target is behind, delivered before any other
  std::chrono::milliseconds retry_delay_{0};
  std::chrono::steady_clock::time_point retry_at_{};
  bool draining_ = false; ///< the child has exited: what it sent is delivered regardless
};

} // namespace vigil::os::detail
