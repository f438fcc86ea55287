// SPDX-License-Identifier: Apache-2.0
#include "pump.hpp"

#include "vigil/runtime/stats.hpp"
#include "vigil/term/text.hpp"
#include "vigil/worker_sdk/envelope.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace vigil::os::detail {
namespace {

/// Where the pump's checked sends go.
send_sinks sinks_of(const pump_hooks& hooks) {
  runtime* rt = hooks.rt;
  return send_sinks{
      .whereis = [rt](atom name) { return rt->whereis(name); },
      .is_protected = hooks.is_protected,
      .send_local = [rt](pid to, term message) { rt->send(to, std::move(message)); },
      .route = hooks.route,
  };
}

/// Delivers one frame; false when it is not an envelope. A send the child may not make is
/// dropped and counted (deliver_checked).
bool deliver(os_child& c, const send_sinks& sinks, const term& frame) {
  if (auto d = sdk::as_send(frame)) {
    (void)deliver_checked(c.grants, d->to, d->message, sinks);
    return true;
  }
  if (auto reason = sdk::as_exit(frame)) {
    c.exit_frame = *reason;
    return true;
  }
  if (auto text = sdk::as_ready(frame)) {
    if (c.ready_frame_seen) {
      std::lock_guard lock(c.health_mutex);
      ++c.health_report.notify_ignored; // once per incarnation
    } else {
      c.ready_frame_seen = true;
      c.ready_frame = std::move(*text);
    }
    return true;
  }
  return false;
}

std::string describe(const term& frame) {
  std::string text = to_string(frame);
  if (text.size() > 200) {
    text.resize(200);
    text += "...";
  }
  return text;
}

const std::string not_attached = "the worker did not attach to its channel: ";

} // namespace

channel_pump::channel_pump(os_child& c, const pump_hooks& hooks)
    : c_(c), sinks_(sinks_of(hooks)), must_attach_(hooks.must_attach), rt_(hooks.rt),
      max_waiting_(hooks.max_waiting) {
  // The envelopes' atoms exist before a frame from the child is decoded, whether or not the
  // child may create atoms.
  (void)sdk::ready_tag();
  if (must_attach_) {
    deadline_ = std::chrono::steady_clock::now() + hooks.attach_timeout;
  }
}

bool channel_pump::check_attached() {
  if (reader_) {
    return true;
  }
  if (closed_) {
    return false;
  }
  auto ok = c_.channel.poll_accept();
  if (!ok) {
    // A command may not speak the channel at all; only a vigil-worker must.
    if (must_attach_) {
      c_.fail_channel(not_attached + ok.error().message());
    }
    close();
    return false;
  }
  if (!*ok) {
    return false;
  }
  deadline_.reset();
  c_.attached.store(true);
  reader_.emplace(c_.from_view, ipc::decode_limits{.create_atoms = c_.sdk_atoms,
                                                   .new_atoms = c_.new_atoms.get()});
  return true;
}

channel_pump::progress channel_pump::serve(std::size_t budget) {
  if (!check_attached()) {
    return closed_ ? progress::closed : progress::idle;
  }
  if (closed_) {
    return progress::closed;
  }
  if (held_) {
    if (target_behind(*held_)) {
      return hold(*std::exchange(held_, std::nullopt));
    }
    retry_delay_ = std::chrono::milliseconds{0};
    if (!deliver_frame(*std::exchange(held_, std::nullopt))) {
      return progress::closed;
    }
  }
  for (std::size_t n = 0; n < budget; ++n) {
    auto r = reader_->try_read();
    if (!r) {
      c_.fail_channel(r.error().message());
      close();
      return progress::closed;
    }
    if (!r->has_value()) {
      // Announce the sleep, then look once more: the writer signals the eventfd only for a
      // reader that announced it.
      if (reader_->announce_sleep()) {
        continue;
      }
      return progress::idle;
    }
    c_.received.fetch_add(1, std::memory_order_relaxed);
    if (target_behind(**r)) {
      return hold(std::move(**r));
    }
    if (!deliver_frame(**r)) {
      return progress::closed;
    }
  }
  if (reader_->readable()) {
    return progress::more;
  }
  return reader_->announce_sleep() ? progress::more : progress::idle;
}

bool channel_pump::target_behind(const term& frame) const {
  if (draining_ || rt_ == nullptr) {
    return false;
  }
  // {:send, to, message}, looked at in place: this runs for every frame.
  if (!frame.is_tuple() || frame.size() != 3 || !frame[0].is(sdk::send_tag())) {
    return false;
  }
  const term& target = frame[1];
  std::optional<pid> to;
  if (target.is_pid()) {
    to = target.as_pid();
  } else if (target.is_atom() && sinks_.whereis) {
    to = sinks_.whereis(target.as_atom());
  }
  // A worker's process (node != 0) is reached through its port, whose backlog is bounded.
  if (!to || to->node != 0) {
    return false;
  }
  auto waiting = mailbox_length_seen(*rt_, *to);
  if (!waiting || *waiting < max_waiting_) {
    return false;
  }
  // Only a send the worker may make waits: deliver_checked drops any other at once. Held, it
  // would stall the worker on a process it cannot reach, and tell it that one is behind.
  auto& g = c_.grants;
  if (sinks_.is_protected && sinks_.is_protected(*to)) {
    return false;
  }
  return target.is_pid()
             ? g.given.holds(*to)
             : std::find(g.names.begin(), g.names.end(), target.as_atom()) != g.names.end();
}

bool channel_pump::deliver_frame(const term& frame) {
  if (deliver(c_, sinks_, frame)) {
    return true;
  }
  c_.fail_channel("a frame that is no envelope: " + describe(frame));
  close();
  return false;
}

channel_pump::progress channel_pump::hold(term frame) {
  held_ = std::move(frame);
  retry_delay_ =
      std::clamp(retry_delay_ * 2, std::chrono::milliseconds{1}, std::chrono::milliseconds{64});
  retry_at_ = std::chrono::steady_clock::now() + retry_delay_;
  c_.held_back.fetch_add(1, std::memory_order_relaxed);
  return progress::blocked;
}

void channel_pump::drain() {
  draining_ = true;
  if (!closed_) {
    // The smallest record is 8 bytes: a full ring holds at most this many frames.
    (void)serve(c_.from_view.capacity() / 8 + 1);
  }
  close();
}

void channel_pump::attach_deadline_passed() {
  if (!deadline_ || check_attached() || closed_) {
    return;
  }
  c_.fail_channel(not_attached + "the process did not attach in time");
  close();
}

} // namespace vigil::os::detail
