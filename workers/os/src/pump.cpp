// SPDX-License-Identifier: Apache-2.0
#include "pump.hpp"

#include "vigil/runtime/stats.hpp"
#include "vigil/term/text.hpp"
#include "vigil/worker_sdk/envelope.hpp"

#include <algorithm>
#include <cstdint>
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

/// What became of a frame.
enum class fate : std::uint8_t {
  taken,       ///< delivered, kept, or (a send the child may not make) dropped and counted
  held,        ///< a send to a daemon process that is behind (send_sinks::behind): not made
  not_envelope ///< garbage: the channel breaks
};

/// Delivers one frame (a send through deliver_checked).
fate deliver(os_child& c, const send_sinks& sinks, const term& frame) {
  if (auto d = sdk::as_send(frame)) {
    return deliver_checked(c.grants, d->to, d->message, sinks) == send_outcome::behind
               ? fate::held
               : fate::taken;
  }
  if (auto reason = sdk::as_exit(frame)) {
    c.exit_frame = *reason;
    return fate::taken;
  }
  if (auto text = sdk::as_ready(frame)) {
    if (c.ready_frame_seen) {
      std::lock_guard lock(c.health_mutex);
      ++c.health_report.notify_ignored; // once per incarnation
    } else {
      c.ready_frame_seen = true;
      c.ready_frame = std::move(*text);
    }
    return fate::taken;
  }
  return fate::not_envelope;
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
  if (rt_ != nullptr) {
    sinks_.behind = [this](pid to) { return behind(to); };
  }
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
    if (auto stop = deliver_frame(*std::exchange(held_, std::nullopt))) {
      return *stop;
    }
    retry_delay_ = std::chrono::milliseconds{0};
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
    if (auto stop = deliver_frame(std::move(**r))) {
      return *stop;
    }
  }
  if (reader_->readable()) {
    return progress::more;
  }
  return reader_->announce_sleep() ? progress::more : progress::idle;
}

bool channel_pump::behind(pid to) const {
  if (draining_) {
    return false;
  }
  auto waiting = mailbox_length_seen(*rt_, to);
  return waiting && *waiting >= max_waiting_;
}

std::optional<channel_pump::progress> channel_pump::deliver_frame(term frame) {
  switch (deliver(c_, sinks_, frame)) {
  case fate::taken: return std::nullopt;
  case fate::held: return hold(std::move(frame));
  case fate::not_envelope: break;
  }
  c_.fail_channel("a frame that is no envelope: " + describe(frame));
  close();
  return progress::closed;
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
