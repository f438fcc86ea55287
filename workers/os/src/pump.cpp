// SPDX-License-Identifier: Apache-2.0
#include "pump.hpp"

#include "vigil/term/text.hpp"
#include "vigil/worker_sdk/envelope.hpp"

#include <string>

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
    : c_(c), sinks_(sinks_of(hooks)), must_attach_(hooks.must_attach) {
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
    if (!deliver(c_, sinks_, **r)) {
      c_.fail_channel("a frame that is no envelope: " + describe(**r));
      close();
      return progress::closed;
    }
  }
  if (reader_->readable()) {
    return progress::more;
  }
  return reader_->announce_sleep() ? progress::more : progress::idle;
}

void channel_pump::drain() {
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
