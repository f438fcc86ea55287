// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/ipc/channel.hpp"
#include "vigil/term/term.hpp"
#include "vigil/worker_sdk/envelope.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

/// The worker SDK: lets any program that vigild starts (a `command` child) exchange terms
/// with the daemon through its shared-memory channel.
///
///     auto w = vigil::sdk::worker::from_env();        // VIGIL_CHANNEL_FD=3
///     for (;;) {
///       auto d = w->receive(std::chrono::seconds(1));  // {:send, to, message} from vigild
///       if (!d) break;                                 // the daemon is gone
///       if (*d && (*d)->message.is_tuple() && (*d)->message[0].is_pid())
///         w->send((*d)->message[0].as_pid(), vigil::make_tuple(vigil::atoms::ok,
///         vigil::atoms::pong));
///     }
///
/// Messages sent to the worker's port pid arrive with `to == :main`. The program has no pid
/// of its own; whoever wants an answer puts their pid in the message, as in Erlang. Atoms
/// sent to the daemon must already exist there (the daemon never creates atoms for a
/// command): use strings for open-ended names. docs/worker-sdk.md documents the wire format
/// for other languages.
///
/// Thread affinity: one thread at a time.
namespace vigil::sdk {

class worker {
public:
  /// Attaches to the channel whose descriptor VIGIL_CHANNEL_FD names, waking vigild through
  /// the eventfd VIGIL_WAKE_FD names. Errors: not_found when VIGIL_CHANNEL_FD is unset (the
  /// program was not started by vigild), else the channel's.
  [[nodiscard]] static result<worker> from_env();

  /// Attaches to the channel behind `fd`, taking it. `wake_fd`, when not -1, is the eventfd
  /// that wakes the daemon's reader (VIGIL_WAKE_FD); it is not taken.
  [[nodiscard]] static result<worker> attach(int fd, std::uint32_t node = 0, int wake_fd = -1);

  /// The next delivery, waiting at most `timeout`; nullopt when none came. Errors:
  /// connection_reset once the daemon is gone and everything it sent has been read.
  [[nodiscard]] result<std::optional<delivery>> receive(std::chrono::nanoseconds timeout);

  /// Sends `message` to a daemon process (node 0), a process of another OS worker, or a
  /// name registered in the daemon. When the ring stays full for `max_wait` the term is not
  /// sent and the error is timed_out.
  result<void> send(pid to, const term& message,
                    std::chrono::nanoseconds max_wait = std::chrono::seconds(1));
  result<void> send(atom name, const term& message,
                    std::chrono::nanoseconds max_wait = std::chrono::seconds(1));

  /// Tells the daemon that this program is ready to serve (a child with `ready = "notify"`,
  /// as sd_notify's READY=1): its supervisor goes on starting the children after it.
  /// `status_text` (cut to 256 bytes) is shown as the child's status. The daemon takes the
  /// first call of an incarnation; later ones are ignored (and counted in `info`), as is a
  /// call from a child whose readiness is not `notify`.
  result<void> ready(std::string_view status_text = {});

  /// Tells the daemon that this program is about to exit with `reason`: its port then exits
  /// with `reason` rather than with the exit status.
  result<void> exit(const term& reason);

  /// This incarnation's node number (VIGIL_NODE), 0 if unknown.
  [[nodiscard]] std::uint32_t node() const noexcept { return node_; }

  /// A new reference of this worker's own node (`ref_node`), for a call or a request whose
  /// answer it wants to match: vigild refuses a send that shows a reference the worker
  /// neither made so nor was shown. Unique within this incarnation.
  [[nodiscard]] reference make_ref() noexcept;

  /// A pidfd of the daemon: readable once it is gone (for poll loops).
  [[nodiscard]] int daemon_fd() const noexcept { return channel_.remote().fd(); }

  /// The channel itself, for its counters.
  [[nodiscard]] const ipc::channel& channel() const noexcept { return channel_; }

private:
  worker(ipc::channel ch, std::uint32_t node) : channel_(std::move(ch)), node_(node) {}

  result<void> post(const term& frame, std::chrono::nanoseconds max_wait);

  ipc::channel channel_;
  std::uint32_t node_ = 0;
  std::uint64_t next_ref_ = 0;
};

} // namespace vigil::sdk
