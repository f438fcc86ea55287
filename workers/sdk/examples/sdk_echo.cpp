// SPDX-License-Identifier: Apache-2.0
// An example of the worker SDK: a plain program that vigild supervises as a `command` and
// that answers messages like the built-in echo kind.
//
//     [[supervisor.children]]
//     id = "sdk_echo"
//     command = ["/usr/lib/vigil/examples/vigil_sdk_echo"]
//
//     $ vigilctl send sdk_echo '{self(), :ping}' --await 1000     # -> {:ok, :pong}
//
// It answers {from, _} with {:ok, :pong}, {from, :count} with {:ok, N} (requests so far),
// and exits with reason {:shutdown, "asked"} on {from, :stop}. Each request is also printed
// on stdout, which vigild captures into the worker's log. Its replies use only atoms the
// daemon knows (a daemon never creates atoms for a command: docs/worker-sdk.md).
#include "vigil/term/text.hpp"
#include "vigil/worker_sdk/worker.hpp"

#include <cstdio>

int main() {
  using namespace vigil;
  auto w = sdk::worker::from_env();
  if (!w) {
    std::fprintf(stderr, "sdk_echo: %s\n", w.error().message().c_str());
    return 100;
  }
  std::printf("sdk_echo: attached as node %u\n", w->node());
  std::fflush(stdout);
  const atom count("count");
  const atom stop("stop");
  std::int64_t requests = 0;
  for (;;) {
    auto d = w->receive(std::chrono::seconds(5));
    if (!d) {
      std::printf("sdk_echo: the daemon is gone (%s)\n", d.error().message().c_str());
      return 0;
    }
    if (!*d) {
      continue;
    }
    const term& msg = (*d)->message;
    std::printf("sdk_echo: got %s\n", to_string(msg).c_str());
    std::fflush(stdout);
    if (!msg.is_tuple() || msg.size() != 2 || !msg[0].is_pid()) {
      continue;
    }
    pid from = msg[0].as_pid();
    ++requests;
    if (msg[1].is(stop)) {
      (void)w->exit(vigil::make_tuple(atoms::shutdown, "asked"));
      return 1;
    }
    term reply = msg[1].is(count) ? vigil::make_tuple(atoms::ok, requests)
                                  : vigil::make_tuple(atoms::ok, atoms::pong);
    if (auto sent = w->send(from, reply); !sent) {
      std::fprintf(stderr, "sdk_echo: %s\n", sent.error().message().c_str());
    }
  }
}
