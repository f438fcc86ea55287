// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The envelopes that travel in a worker's channel (docs/worker-sdk.md, "Envelopes"). Every
/// frame in either ring holds one of them:
///
///     {:send, to, message}   deliver `message` to `to`
///     {:exit, reason}        worker -> daemon only: the worker is about to exit with `reason`
///     {:ready, status_text}  worker -> daemon only: the worker is ready (`ready = "notify"`);
///                            status_text is a binary of at most `max_ready_text` bytes
///
/// Daemon -> worker, `to` is `:main` (the message was sent to the worker's port) or a pid
/// of the worker's own node. Worker -> daemon, `to` is a pid (node 0: a daemon process;
/// another node: a process of that OS worker, routed by the daemon) or a registered name.
namespace vigil::sdk {

/// :send
[[nodiscard]] atom send_tag();
/// :exit
[[nodiscard]] atom exit_tag();
/// :ready
[[nodiscard]] atom ready_tag();
/// :main, the address of "the worker" itself
[[nodiscard]] atom main_tag();

/// {:send, to, message}
[[nodiscard]] term make_send(const term& to, const term& message);
/// {:exit, reason}
[[nodiscard]] term make_exit(const term& reason);

/// The longest status text a {:ready, text} frame may carry (as sd_notify's STATUS=).
inline constexpr std::size_t max_ready_text = 256;

/// {:ready, status_text}; a longer text is cut to `max_ready_text` bytes.
[[nodiscard]] term make_ready(std::string_view status_text);

/// The node field of the references an OS worker makes itself: its node number folded into
/// the 24 bits a reference's node has, never 0 (the daemon's). vigild lets a worker show
/// a reference of this node, or one that was shown to it, and no other (docs/security.md,
/// "Workers"); vigil-worker's runtime and `worker::make_ref` stamp it.
[[nodiscard]] constexpr std::uint32_t ref_node(std::uint32_t node) noexcept {
  return node == 0 ? 0 : ((node - 1) % reference::max_node) + 1;
}

/// A decoded {:send, to, message}.
struct delivery {
  term to;
  term message;
};

/// `frame` as a {:send, to, message}, or nullopt when it is not one.
[[nodiscard]] std::optional<delivery> as_send(const term& frame);

/// The reason of an {:exit, reason} frame, or nullopt.
[[nodiscard]] std::optional<term> as_exit(const term& frame);

/// The status text of a {:ready, text} frame whose text is a binary of at most
/// `max_ready_text` bytes, or nullopt for anything else.
[[nodiscard]] std::optional<std::string> as_ready(const term& frame);

} // namespace vigil::sdk
