// SPDX-License-Identifier: Apache-2.0
// A hostile OS worker, built on the documented worker SDK (docs/worker-sdk.md), for the
// security tests of finding 1 in issue 12 (tests/integration/security_workers.py). vigild
// runs it as a `command`, as `nobody`. It takes requests {from, "what", arg?} (strings, not
// atoms: a client cannot make new atoms) and does what an attacker would:
//
//     {from, "ping"}              answers from (a pid it was given) with {:ok, :pong}
//     {from, "forge_root", hub}   sends {:"$vigil_root", from} to vigil_supervisor_reports and
//                                 to `hub`, as the attack that once stopped vigild when
//                                 `from` died; answers {:ok, 2}
//     {from, "via", "name"}       sends {from, :ping} to the registered name, then answers
//                                 {:ok, "name"}
//     {from, "to_pid", pid}       sends {from, :ping} to `pid`, then answers {:ok, pid}
//     {from, "guess"}             sends {from, :ping} to pids it was never given (made-up
//                                 pids of vigild and of another worker's node); answers
//                                 {:ok, N}, N the sends made
//     {from, "exit_with", reason} exits with `reason` (any term: a string of escape
//                                 sequences and newlines, for vigild's log)
//
// It sends only atoms vigild already has: a command cannot create atoms in the daemon.
// Each refused send is counted by vigild in `refused` (the info of this worker's port).
#include "vigil/worker_sdk/worker.hpp"

#include <cstdio>
#include <string_view>

namespace {

using namespace vigil;

constexpr std::int64_t guesses = 16;

void answer(sdk::worker& w, pid to, const term& reply) {
  if (auto sent = w.send(to, reply); !sent) {
    std::fprintf(stderr, "worker_probe: %s\n", sent.error().message().c_str());
  }
}

/// Handles one request; false when the probe is to exit.
bool handle(sdk::worker& w, pid from, std::string_view what, const term* arg) {
  const atom ping("ping");
  const term request = vigil::make_tuple(from, ping);
  if (what == "ping") {
    answer(w, from, vigil::make_tuple(atoms::ok, atoms::pong));
  } else if (what == "forge_root" && arg != nullptr && arg->is_pid()) {
    const term forged = vigil::make_tuple(atom("$vigil_root"), from);
    (void)w.send(atom("vigil_supervisor_reports"), forged);
    (void)w.send(arg->as_pid(), forged);
    answer(w, from, vigil::make_tuple(atoms::ok, std::int64_t{2}));
  } else if (what == "via" && arg != nullptr && arg->is_string()) {
    (void)w.send(atom(arg->as_string()), request);
    answer(w, from, vigil::make_tuple(atoms::ok, *arg));
  } else if (what == "to_pid" && arg != nullptr && arg->is_pid()) {
    (void)w.send(arg->as_pid(), request);
    answer(w, from, vigil::make_tuple(atoms::ok, *arg));
  } else if (what == "guess") {
    for (std::int64_t i = 0; i < guesses / 2; ++i) {
      auto n = static_cast<std::uint32_t>(i);
      (void)w.send(pid{0, 1 + n, 1'000'000 + n}, request);       // vigild's node
      (void)w.send(pid{w.node() + 1000, 1 + n, 1 + n}, request); // another worker's
    }
    answer(w, from, vigil::make_tuple(atoms::ok, guesses));
  } else if (what == "exit_with" && arg != nullptr) {
    (void)w.exit(*arg);
    return false;
  }
  return true;
}

} // namespace

int main() {
  auto w = sdk::worker::from_env();
  if (!w) {
    std::fprintf(stderr, "worker_probe: %s\n", w.error().message().c_str());
    return 100;
  }
  std::printf("worker_probe: attached as node %u\n", w->node());
  std::fflush(stdout);
  for (;;) {
    auto d = w->receive(std::chrono::seconds(5));
    if (!d) {
      return 0; // the daemon is gone
    }
    if (!*d) {
      continue;
    }
    const term& msg = (*d)->message;
    if (!msg.is_tuple() || msg.size() < 2 || !msg[0].is_pid() || !msg[1].is_string()) {
      continue;
    }
    if (!handle(*w, msg[0].as_pid(), msg[1].as_string(), msg.size() > 2 ? &msg[2] : nullptr)) {
      return 1;
    }
  }
}
