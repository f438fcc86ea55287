// SPDX-License-Identifier: Apache-2.0
#include "vigil/workers/builtin_kinds.hpp"

#include <algorithm>

namespace vigil::workers {
namespace {

using std::chrono::milliseconds;

const atom crash_atom("crash");
const atom crashed_atom("crashed");

/// `{from, _}` with a pid first: the request shape of the inspiration's workers.
std::optional<pid> requester(const term& message) {
  if (message.is_tuple() && message.size() == 2 && message[0].is_pid()) {
    return message[0].as_pid();
  }
  return std::nullopt;
}

task<> answer_after(context& self, pid to, milliseconds delay) {
  if (delay.count() > 0) {
    co_await self.sleep(delay);
  }
  self.send(to, make_tuple(atoms::ok, atoms::pong));
}

/// A kind whose process takes one duration argument.
kind duration_kind(std::string name, std::string doc, std::string arg,
                   task<> (*body)(context&, milliseconds)) {
  kind k;
  k.name = std::move(name);
  k.doc = std::move(doc);
  k.start = [body, arg = std::move(arg)](context& sup, const term& args) -> result<pid> {
    auto ms = int_arg(args, arg, 0);
    if (!ms) {
      return ms.error();
    }
    if (*ms < 0) {
      return error{make_error_code(errc::invalid_argument),
                   "argument '" + arg + "' must not be negative"};
    }
    return sup.spawn_link(body, milliseconds(*ms));
  };
  return k;
}

} // namespace

task<> echo(context& self, milliseconds delay) {
  for (;;) {
    auto m = co_await self.receive();
    if (auto from = requester(m.message)) {
      co_await answer_after(self, *from, delay);
    }
  }
}

task<> dispatcher(context& self, milliseconds delay) {
  for (;;) {
    auto m = co_await self.receive();
    if (auto from = requester(m.message)) {
      self.spawn(answer_after, *from, delay);
    }
  }
}

task<> crasher(context& self, milliseconds crash_after) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + crash_after;
  for (;;) {
    timeout wait = infinity;
    if (crash_after.count() > 0) {
      wait =
          std::max(timeout::zero(), std::chrono::duration_cast<timeout>(deadline - clock::now()));
    }
    auto m = co_await self.receive(wait);
    if (!m || m.message.is(crash_atom)) {
      co_await self.exit(crashed_atom);
    }
    if (auto from = requester(m.message)) {
      self.send(*from, make_tuple(atoms::ok, atoms::pong));
    }
  }
}

std::vector<kind> builtin_kinds() {
  std::vector<kind> out;
  out.push_back(duration_kind("echo", "answers {from, _} with {:ok, :pong} after `delay` ms",
                              "delay", &echo));
  out.push_back(duration_kind("dispatcher",
                              "spawns a worker per {from, _} request; each answers {:ok, :pong} "
                              "after `delay` ms",
                              "delay", &dispatcher));
  out.push_back(duration_kind("crasher",
                              "answers like echo; exits :crashed on :crash, or after "
                              "`crash_after` ms if set",
                              "crash_after", &crasher));
  return out;
}

} // namespace vigil::workers
