// SPDX-License-Identifier: Apache-2.0
#include "pump.hpp"

#include "vigil/common/futex.hpp"
#include "vigil/term/text.hpp"
#include "vigil/worker_sdk/envelope.hpp"

#include "ring_wait.hpp"

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

/// Waits for the handshake, then delivers frames until the pump is told to stop.
void read_channel(os_child& c, const pump_hooks& hooks) {
  auto timeout = hooks.must_attach ? hooks.attach_timeout
                                   : std::chrono::nanoseconds(std::chrono::hours(24 * 365));
  if (auto ok = c.channel.accept(c.os_pid, timeout); !ok) {
    if (hooks.must_attach && !c.pump_stop.load()) {
      c.fail_channel("the worker did not attach to its channel: " + ok.error().message());
    }
    return;
  }
  c.attached.store(true);
  ipc::ring_reader reader(
      c.from_view, ipc::decode_limits{.create_atoms = c.sdk_atoms, .new_atoms = c.new_atoms.get()});
  const send_sinks sinks = sinks_of(hooks);
  for (;;) {
    auto r = reader.try_read();
    if (!r) {
      c.fail_channel(r.error().message());
      return;
    }
    if (r->has_value()) {
      c.received.fetch_add(1, std::memory_order_relaxed);
      if (!deliver(c, sinks, **r)) {
        c.fail_channel("a frame that is no envelope: " + describe(**r));
        return;
      }
      continue;
    }
    // Checked only once the ring is empty: what the child published before it died is
    // delivered before the pump ends.
    if (c.pump_stop.load(std::memory_order_seq_cst)) {
      return;
    }
    // No timeout: an idle child costs the daemon no wake-ups. stop_pump wakes it until it
    // has gone, so a child that scribbles on the futex word cannot keep it asleep.
    wait_input(
        *c.from_worker, reader, [&] { return c.pump_stop.load(); }, std::nullopt);
  }
}

} // namespace

void run_pump(os_child& c, const pump_hooks& hooks) {
  read_channel(c, hooks);
  c.pump_done.store(1, std::memory_order_release);
  futex::wake_all(c.pump_done, futex::sharing::process_private);
}

} // namespace vigil::os::detail
