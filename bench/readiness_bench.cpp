// SPDX-License-Identifier: Apache-2.0
// Start gating latency (docs/readiness.md): from a child's ready message to the start of the
// sibling that waited for it. A rest_for_one supervisor holds `db` (ready = "notify") and
// `app` after it; each round the driver kills db, the supervisor stops app and restarts db,
// db's body stamps the clock and sends {:"$vigil_ready", ...}, and app's body stamps the
// clock when it first runs. The figure is app's stamp minus db's: the supervisor waking on
// the ready message, opening the gate, calling the factory, and the new child being run.
//
// Usage: readiness_bench [THREADS=2] [N=20000]
// Prints one JSON line with p50/p99/mean/max in ns; exits 1 on a failure.
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/readiness.hpp"
#include "vigil/supervision/supervisor.hpp"

#include "latency_summary.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <vector>

namespace {

using namespace vigil;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const atom a_ready_at("ready_at");
const atom a_started("started");
const atom a_done("done");

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "readiness_bench: %s\n", what);
  std::_Exit(1);
}

/// db: says it is ready at once, after telling the driver when.
task<> db(context& self, pid driver, pid supervisor) {
  self.send(driver, make_tuple(a_ready_at, self.self(), now_ns()));
  supervision::notify_ready(self, supervisor);
  (void)co_await self.receive();
}

/// app: reports when its body first runs.
task<> app(context& self, pid driver) {
  self.send(driver, make_tuple(a_started, self.self(), now_ns()));
  (void)co_await self.receive();
}

struct run {
  std::int64_t n = 0;
  std::vector<std::int64_t> samples;
};

task<> driver(context& self, run* r, pid main_box) {
  self.trap_exit(true);
  supervision::supervisor_spec spec;
  spec.name = "bench";
  spec.how = supervision::strategy::rest_for_one;
  spec.intensity = std::numeric_limits<std::uint32_t>::max();
  spec.period = 1ms;
  supervision::child_spec first;
  first.id = "db";
  first.kind = "bench";
  first.ready.kind = supervision::probe_kind::notify;
  first.shutdown = supervision::shutdown_policy::brutal_kill();
  supervision::child_spec second = first;
  second.id = "app";
  second.ready = {};
  spec.children = {first, second};
  pid me = self.self();
  supervision::child_factory factory = [me](context& sup, const supervision::child_spec& c) {
    if (c.id == "db") {
      return result<pid>(sup.spawn_link(db, me, sup.self()));
    }
    return result<pid>(sup.spawn_link(app, me));
  };
  auto sup = co_await supervision::start_supervisor(self, spec, factory);
  if (!sup) {
    fail("supervisor did not start");
  }
  const auto ready_at = pattern::tuple({a_ready_at, pattern::bind("pid"), pattern::bind("t")});
  const auto started = pattern::tuple({a_started, pattern::bind("pid"), pattern::bind("t")});
  auto d = co_await self.receive(ready_at, 10s);
  auto a = co_await self.receive(started, 10s);
  if (!d || !a) {
    fail("children did not start");
  }
  pid child = d[0].as_pid();
  std::int64_t warmup = std::min<std::int64_t>(1000, r->n / 10);
  r->samples.reserve(static_cast<std::size_t>(r->n));
  for (std::int64_t i = 0; i < r->n + warmup; ++i) {
    self.exit(child, atoms::kill);
    auto ready = co_await self.receive(ready_at);
    auto up = co_await self.receive(started);
    child = ready[0].as_pid();
    if (i >= warmup) {
      r->samples.push_back(up[1].as_integer() - ready[1].as_integer());
    }
  }
  self.send(main_box, a_done);
}

} // namespace

int main(int argc, char** argv) {
  unsigned threads = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 2;
  run r;
  r.n = argc > 2 ? std::atoll(argv[2]) : 20000;
  if (r.n <= 0) {
    fail("usage: readiness_bench [THREADS] [N]");
  }
  runtime rt{runtime_options{.schedulers = threads}};
  auto box = rt.make_mailbox();
  rt.spawn(driver, &r, box->self());
  if (!box->receive(std::chrono::minutes(7))) {
    fail("timeout");
  }
  const bench::latency_summary l = bench::summarize(r.samples);
  std::printf("{\"bench\":\"ready_to_next_start\",\"impl\":\"ours\",\"threads\":%u,\"n\":%" PRId64
              ",\"p50_ns\":%" PRId64 ",\"p99_ns\":%" PRId64 ",\"mean_ns\":%.1f,\"max_ns\":%" PRId64
              ",\"ts\":%ld}\n",
              rt.schedulers(), r.n, l.p50_ns, l.p99_ns, l.mean_ns, l.max_ns,
              static_cast<long>(std::time(nullptr)));
  return 0;
}
