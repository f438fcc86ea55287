// SPDX-License-Identifier: Apache-2.0
#include "vigil/workers/builtin_kinds.hpp"

#include "vigil/supervision/readiness.hpp"

#include <algorithm>

namespace vigil::workers {
namespace {

using std::chrono::milliseconds;

const atom crash_atom("crash");
const atom crashed_atom("crashed");
const atom ready_atom("ready");

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

/// A kind whose process takes one optional duration argument ("2s", or 2000 ms).
kind_with_args duration_kind(std::string name, std::string doc, std::string arg,
                             std::string arg_doc, task<> (*body)(context&, milliseconds)) {
  kind k;
  k.name = std::move(name);
  k.doc = std::move(doc);
  k.start = [body, arg](context& sup, const term& args) -> result<pid> {
    auto d = duration_arg(args, arg, milliseconds{0});
    if (!d) {
      return d.error();
    }
    return sup.spawn_link(body, *d);
  };
  return {std::move(k), {{std::move(arg), arg_type::duration, std::move(arg_doc), false}}};
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

namespace {

/// A worker that is ready when it says so (docs/readiness.md): sent :ready, or after
/// `ready_after`; it answers like echo meanwhile and after, and exits :crashed on :crash.
task<> ready_when_told(context& self, milliseconds ready_after, pid supervisor) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + ready_after;
  bool told = false;
  for (;;) {
    timeout wait = infinity;
    if (!told && ready_after.count() > 0) {
      wait =
          std::max(timeout::zero(), std::chrono::duration_cast<timeout>(deadline - clock::now()));
    }
    auto m = co_await self.receive(wait);
    if (!m || m.message.is(ready_atom)) {
      if (!told) {
        supervision::notify_ready(self, supervisor);
        told = true;
      }
      continue;
    }
    if (m.message.is(crash_atom)) {
      co_await self.exit(crashed_atom);
    }
    if (auto from = requester(m.message)) {
      self.send(*from, make_tuple(atoms::ok, atoms::pong));
    }
  }
}

kind_with_args ready_when_told_kind() {
  kind k;
  k.name = "ready_when_told";
  k.doc = "answers like echo; with ready = \"notify\" it is ready once sent :ready, or after "
          "`ready_after` if set; exits :crashed on :crash";
  k.start = [](context& sup, const term& args) -> result<pid> {
    auto d = duration_arg(args, "ready_after", milliseconds{0});
    if (!d) {
      return d.error();
    }
    // A kind's start runs in its supervisor: sup.self() is the pid to tell it is ready.
    return sup.spawn_link(ready_when_told, *d, sup.self());
  };
  return {std::move(k),
          {{"ready_after", arg_type::duration,
            "say it is ready this long after starting (default: only when sent :ready)", false}}};
}

} // namespace

std::vector<kind_with_args> builtin_kinds() {
  std::vector<kind_with_args> out;
  out.push_back(duration_kind("echo", "answers {from, _} with {:ok, :pong} after `delay`", "delay",
                              "how long to wait before answering (default 0s)", &echo));
  out.push_back(duration_kind("dispatcher",
                              "spawns a worker per {from, _} request; each answers {:ok, :pong} "
                              "after `delay`",
                              "delay", "how long each worker waits before answering (default 0s)",
                              &dispatcher));
  out.push_back(duration_kind("crasher",
                              "answers like echo; exits :crashed on :crash, or after "
                              "`crash_after` if set",
                              "crash_after",
                              "exit :crashed this long after starting (default: never)", &crasher));
  out.push_back(ready_when_told_kind());
  return out;
}

} // namespace vigil::workers
