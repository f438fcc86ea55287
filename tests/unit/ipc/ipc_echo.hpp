// SPDX-License-Identifier: Apache-2.0
#pragma once

// The worker side of the channel echo tests, shared by the forked children of
// channel_process_test.cpp and the exec()ed program echo_child.cpp.

#include "vigil/common/unique_fd.hpp"
#include "vigil/ipc/channel.hpp"

#include <chrono>
#include <utility>

namespace vigil::ipc::ipc_test {

/// A worker's channel options: it interns the atoms the test sends it.
inline channel_options worker_options() {
  channel_options o;
  o.limits.create_atoms = true;
  return o;
}

/// Returns every term received on the channel attached through `fd` until `stop`. Exit codes
/// name the step that failed.
inline int echo(unique_fd fd) {
  using namespace std::chrono_literals;
  const atom stop("stop");
  auto ch = channel::attach(std::move(fd), worker_options());
  if (!ch) {
    return 10;
  }
  for (;;) {
    auto r = ch->receive(10s);
    if (!r) {
      return 11;
    }
    if (!r->has_value()) {
      return 12;
    }
    if (**r == term(stop)) {
      return 0;
    }
    auto s = ch->send(**r, {full_policy::wait, 10s});
    if (!s || *s != send_status::sent) {
      return 13;
    }
  }
}

} // namespace vigil::ipc::ipc_test
