// SPDX-License-Identifier: Apache-2.0
// Restart latency of an in-process child under a one_for_one supervisor: from the kill
// (exit(child, :kill) by a driver process) until the new child's body runs, read on the
// same steady clock. The path measured: the kill wakes the child, it dies and sends its
// EXIT, the supervisor wakes, decides, calls the factory, which spawns and links the new
// child, which runs. See docs/supervision.md.
//
// Usage: supervision_bench [THREADS=2] [N=20000] [CHILDREN=1]
//   CHILDREN > 1 adds idle siblings (one_for_one: they are not touched, but the supervisor
//   looks the child up among them).
// Prints one JSON line (impl "ours") with p50/p99/mean/max in ns; exits 1 on a failure.
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/supervisor.hpp"

#include "latency_summary.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace vigil;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const atom a_started("started");
const atom a_done("done");

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

long status_kb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  std::string k(key);
  while (std::getline(f, line)) {
    if (line.compare(0, k.size(), k) == 0) {
      return std::strtol(line.c_str() + k.size(), nullptr, 10);
    }
  }
  return 0;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "supervision_bench: %s\n", what);
  std::_Exit(1);
}

/// The supervised child: reports when its body first runs, then idles.
task<> bench_child(context& self, pid driver, bool report) {
  if (report) {
    self.send(driver, make_tuple(a_started, self.self(), now_ns()));
  }
  (void)co_await self.receive();
}

struct run {
  std::int64_t n = 0;
  std::uint32_t children = 1;
  std::vector<std::int64_t> samples;
  double seconds = 0;
};

task<> driver(context& self, run* r, pid main_box) {
  self.trap_exit(true);
  supervision::supervisor_spec spec;
  spec.name = "bench";
  spec.intensity = std::numeric_limits<std::uint32_t>::max();
  spec.period = 1ms;
  for (std::uint32_t i = 0; i < r->children; ++i) {
    supervision::child_spec c;
    c.id = i == 0 ? "target" : "idle" + std::to_string(i);
    c.kind = "bench";
    spec.children.push_back(c);
  }
  pid me = self.self();
  supervision::child_factory factory = [me](context& sup, const supervision::child_spec& c) {
    return result<pid>(sup.spawn_link(bench_child, me, c.id == "target"));
  };
  auto sup = co_await supervision::start_supervisor(self, spec, factory);
  if (!sup) {
    fail("supervisor did not start");
  }
  const auto started = pattern::tuple({a_started, pattern::bind("pid"), pattern::bind("t")});
  auto first = co_await self.receive(started, 10s);
  if (!first) {
    fail("child did not start");
  }
  pid child = first[0].as_pid();
  std::int64_t warmup = std::min<std::int64_t>(1000, r->n / 10);
  r->samples.reserve(static_cast<std::size_t>(r->n));
  auto t_begin = steady::now();
  for (std::int64_t i = 0; i < r->n + warmup; ++i) {
    std::int64_t t0 = now_ns();
    self.exit(child, atoms::kill);
    // No receive timeout: arming one per round would add the timer heap to the path;
    // main() bounds the whole run instead.
    auto m = co_await self.receive(started);
    child = m[0].as_pid();
    if (i >= warmup) {
      r->samples.push_back(m[1].as_integer() - t0);
    }
  }
  r->seconds = std::chrono::duration<double>(steady::now() - t_begin).count();
  self.send(main_box, a_done);
}

} // namespace

int main(int argc, char** argv) {
  unsigned threads = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 2;
  run r;
  r.n = argc > 2 ? std::atoll(argv[2]) : 20000;
  r.children = argc > 3 ? static_cast<std::uint32_t>(std::atoi(argv[3])) : 1;
  if (r.n <= 0 || r.children == 0) {
    fail("usage: supervision_bench [THREADS] [N] [CHILDREN]");
  }
  runtime rt{runtime_options{.schedulers = threads}};
  auto box = rt.make_mailbox();
  rt.spawn(driver, &r, box->self());
  if (!box->receive(std::chrono::minutes(7))) {
    fail("timeout");
  }
  auto slow =
      std::count_if(r.samples.begin(), r.samples.end(), [](std::int64_t s) { return s > 100'000; });
  std::string name =
      r.children == 1 ? "restart_latency" : "restart_latency_" + std::to_string(r.children);
  const bench::latency_summary l = bench::summarize(r.samples);
  std::printf("{\"bench\":\"%s\",\"impl\":\"ours\",\"threads\":%u,\"n\":%" PRId64
              ",\"seconds\":%.6f,\"per_op_ns\":%.3f,\"p50_ns\":%" PRId64 ",\"p99_ns\":%" PRId64
              ",\"mean_ns\":%.1f,\"max_ns\":%" PRId64
              ",\"over_100us\":%ld,\"rss_kb\":%ld,\"peak_rss_kb\":%ld"
              ",\"vigil\":\"0.1.0\",\"ts\":%ld}\n",
              name.c_str(), rt.schedulers(), r.n, r.seconds,
              r.seconds * 1e9 / static_cast<double>(r.n), l.p50_ns, l.p99_ns, l.mean_ns, l.max_ns,
              static_cast<long>(slow), status_kb("VmRSS:"), status_kb("VmHWM:"),
              static_cast<long>(std::time(nullptr)));
  return 0;
}
