// SPDX-License-Identifier: Apache-2.0
// Benchmarks of the process runtime on the workloads of ../shared/bench-anchors (README
// part A: spawn, pingpong, ring, skynet, fanout), with the same N/M/K, message shapes and
// clock start/stop points, plus spawn_exit, oneway and selective receive. See
// docs/benchmarks.md.
//
// Usage: runtime_bench BENCH THREADS [ARGS...]
//   spawn      [N=1000000] [ROUNDS=2]     round 2 is reported as spawn_warm
//   spawn_exit [N=1000000]
//   pingpong   [M=1000000]
//   oneway     [M=1000000]
//   ring       [N=1000] [M=1000]
//   skynet     [LEAVES=1000000] [DIV=10]
//   selective  [JUNK=0] [ROUNDS=100000]  reported as selective_JUNK
//   fanout     [K=100000]
// THREADS is runtime_options::schedulers. One benchmark per OS process, so that peak RSS
// belongs to it. Prints one JSON line per result (impl "ours"); exits 1 on a failure or
// when a phase takes longer than kTimeout.
#include "vigil/runtime/runtime.hpp"

#include "runtime_bench_support.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace vigil;
using namespace vigil::bench;
using namespace std::chrono_literals;

/// Spawns and sends per turn before a spawner yields, as CAF's anchor does (the BEAM
/// preempts its spawner after its reduction budget).
constexpr std::int64_t kBatch = 1000;

const atom a_started("started");
const atom a_done("done");
const atom a_stop("stop");
const atom a_next("next");
const atom a_token("token");
const atom a_sum("sum");
const atom a_req("req");
const atom a_rep("rep");
const atom a_msg("msg");
const atom a_junk("junk");
const atom a_tag("tag");

// -- spawn / spawn_warm ---------------------------------------------------------------------

struct spawn_run {
  std::int64_t n = 0;
  std::atomic<std::int64_t> started{0};
  std::vector<pid> kids;
  steady::time_point t0, t_alive, t_gone;
};

task<> idle_child(context& self, std::atomic<std::int64_t>* started) {
  started->fetch_add(1, std::memory_order_relaxed);
  (void)co_await self.receive(); // stop
}

task<> spawner(context& self, spawn_run* run, pid driver) {
  std::size_t base = self.runtime().process_count();
  run->t0 = steady::now();
  for (std::int64_t i = 1; i <= run->n; ++i) {
    run->kids.push_back(self.spawn(idle_child, &run->started));
    if (i % kBatch == 0) {
      co_await self.yield();
    }
  }
  if (!co_await poll_until(self, [run] { return run->started.load() >= run->n; })) {
    fail("spawn: children did not start");
  }
  run->t_alive = steady::now();
  self.send(driver, a_started);
  (void)co_await self.receive(); // the driver has sampled memory
  for (std::size_t i = 0; i < run->kids.size(); ++i) {
    self.send(run->kids[i], a_stop);
    if ((i + 1) % kBatch == 0) {
      co_await self.yield();
    }
  }
  std::vector<pid>{}.swap(run->kids);
  auto& rt = self.runtime();
  if (!co_await poll_until(self, [&rt, base] { return rt.process_count() <= base; })) {
    fail("spawn: children did not exit");
  }
  run->t_gone = steady::now();
  self.send(driver, a_done);
}

void bench_spawn(runtime& rt, mailbox& box, const char* name, std::int64_t n) {
  spawn_run run;
  run.n = n;
  long r0 = rss_kb();
  pid sp = rt.spawn(spawner, &run, box.self());
  await_done(box, "spawn start");
  long r1 = rss_kb();
  auto one = rt.info(run.kids.front());
  rt.send(sp, a_stop);
  await_done(box, "spawn exit");
  emit(name, n, seconds(run.t0, run.t_alive),
       kv("rss_per_proc_bytes", static_cast<double>(r1 - r0) * 1024.0 / static_cast<double>(n))
           + kv("proc_info_memory_bytes", static_cast<long long>(one ? one->memory : 0))
           + kv("exit_seconds", seconds(run.t_alive, run.t_gone))
           + kv("alive_rss_kb", static_cast<long long>(r1)));
}

// -- spawn_exit: N processes that end at once, until all are gone -------------------------

struct timed_run {
  steady::time_point t0, t1;
  std::int64_t value = 0;
};

task<> quick_child(context& /*self*/) {
  co_return;
}

task<> exit_spawner(context& self, timed_run* run, std::int64_t n, pid driver) {
  auto& rt = self.runtime();
  std::size_t base = rt.process_count();
  run->t0 = steady::now();
  for (std::int64_t i = 1; i <= n; ++i) {
    self.spawn(quick_child);
    if (i % kBatch == 0) {
      co_await self.yield();
    }
  }
  if (!co_await poll_until(self, [&rt, base] { return rt.process_count() <= base; })) {
    fail("spawn_exit: children did not exit");
  }
  run->t1 = steady::now();
  self.send(driver, a_done);
}

// -- pingpong ------------------------------------------------------------------------------

task<> pong(context& self) {
  for (;;) {
    auto r = co_await self.receive();
    const term& m = r.message;
    if (!m.is_tuple() || m.size() != 3) {
      co_return; // stop
    }
    self.send(m[1].as_pid(), make_tuple(atoms::pong, m[2]));
  }
}

task<> ping(context& self, timed_run* run, std::int64_t m, pid driver) {
  pid other = self.spawn(pong);
  run->t0 = steady::now();
  for (std::int64_t i = m; i > 0; --i) {
    self.send(other, make_tuple(atoms::ping, self.self(), i));
    auto r = co_await self.receive();
    if (r.message.size() != 2 || r.message[1].as_integer() != i) {
      fail("pingpong: unexpected reply");
    }
  }
  run->t1 = steady::now();
  self.send(other, a_stop);
  self.send(driver, a_done);
}

// -- oneway: M messages to a receiver that counts them --------------------------------------

task<> counter(context& self, std::int64_t m, pid notify) {
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < m; ++i) {
    auto r = co_await self.receive();
    sum += r.message[1].as_integer();
  }
  self.send(notify, make_tuple(a_sum, sum));
}

task<> oneway_sender(context& self, timed_run* run, std::int64_t m, pid driver) {
  pid sink = self.spawn(counter, m, self.self());
  run->t0 = steady::now();
  for (std::int64_t i = 0; i < m; ++i) {
    self.send(sink, make_tuple(a_msg, i));
    if ((i + 1) % kBatch == 0) {
      co_await self.yield();
    }
  }
  auto r = co_await self.receive();
  run->t1 = steady::now();
  run->value = r.message[1].as_integer();
  self.send(driver, a_done);
}

// -- ring ----------------------------------------------------------------------------------

task<> ring_node(context& self, pid driver) {
  auto first = co_await self.receive(); // {next, Pid}
  pid next = first.message[1].as_pid();
  for (;;) {
    auto r = co_await self.receive();
    const term& m = r.message;
    if (!m.is_tuple()) {
      co_return; // stop
    }
    std::int64_t k = m[1].as_integer();
    if (k == 0) {
      self.send(driver, a_done);
    } else {
      self.send(next, make_tuple(a_token, k - 1));
    }
  }
}

task<> ring_driver(context& self, timed_run* run, std::int64_t n, std::int64_t m, pid driver) {
  std::vector<pid> nodes;
  for (std::int64_t i = 0; i < n; ++i) {
    nodes.push_back(self.spawn(ring_node, self.self()));
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    self.send(nodes[i], make_tuple(a_next, nodes[(i + 1) % nodes.size()]));
  }
  run->t0 = steady::now();
  self.send(nodes[0], make_tuple(a_token, n * m));
  (void)co_await self.receive();
  run->t1 = steady::now();
  for (pid p : nodes) {
    self.send(p, a_stop);
  }
  self.send(driver, a_done);
}

// -- skynet --------------------------------------------------------------------------------

task<> skynet(context& self, pid parent, std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) {
    self.send(parent, make_tuple(a_sum, num));
    co_return;
  }
  std::int64_t sub = size / div;
  for (std::int64_t i = 0; i < div; ++i) {
    self.spawn(skynet, self.self(), num + i * sub, sub, div);
  }
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) {
    auto r = co_await self.receive();
    sum += r.message[1].as_integer();
  }
  self.send(parent, make_tuple(a_sum, sum));
}

std::int64_t skynet_procs(std::int64_t size, std::int64_t div) {
  return size <= 1 ? 1 : 1 + div * skynet_procs(size / div, div);
}

// -- selective receive behind JUNK unmatched messages ---------------------------------------

task<> echo(context& self) {
  for (;;) {
    auto r = co_await self.receive();
    const term& m = r.message;
    if (!m.is_tuple()) {
      co_return; // stop
    }
    self.send(m[1].as_pid(), make_tuple(a_tag, m[2]));
  }
}

task<> selector(context& self, timed_run* run, std::int64_t junk, std::int64_t rounds, pid driver) {
  pid server = self.spawn(echo);
  for (std::int64_t i = 0; i < junk; ++i) {
    self.send(self.self(), make_tuple(a_junk, i));
  }
  const pattern reply = pattern::tuple({pattern(a_tag), pattern::any()});
  run->t0 = steady::now();
  for (std::int64_t i = 0; i < rounds; ++i) {
    self.send(server, make_tuple(a_req, self.self(), i));
    auto r = co_await self.receive(reply);
    if (r.message[1].as_integer() != i) {
      fail("selective: unexpected reply");
    }
  }
  run->t1 = steady::now();
  run->value = static_cast<std::int64_t>(self.flush().size()); // the junk, untouched
  self.send(server, a_stop);
  self.send(driver, a_done);
}

// -- fanout --------------------------------------------------------------------------------

task<> fan_worker(context& self, pid client, std::int64_t i) {
  self.send(client, make_tuple(a_rep, i));
  co_return;
}

task<> fan_server(context& self) {
  for (;;) {
    auto r = co_await self.receive();
    const term& m = r.message;
    if (!m.is_tuple()) {
      co_return; // stop
    }
    self.spawn(fan_worker, m[1].as_pid(), m[2].as_integer());
  }
}

task<> fan_client(context& self, timed_run* run, std::int64_t k, pid driver) {
  pid server = self.spawn(fan_server);
  run->t0 = steady::now();
  for (std::int64_t i = 0; i < k; ++i) {
    self.send(server, make_tuple(a_req, self.self(), i));
  }
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < k; ++i) {
    auto r = co_await self.receive();
    sum += r.message[1].as_integer();
  }
  run->t1 = steady::now();
  run->value = sum;
  self.send(server, a_stop);
  self.send(driver, a_done);
}

// -- main ----------------------------------------------------------------------------------

std::int64_t arg(int argc, char** argv, int i, std::int64_t fallback) {
  return argc > i ? std::strtoll(argv[i], nullptr, 10) : fallback;
}

/// Spawns `body(run, args..., main's pid)` and waits until it reports.
template <class F, class... Args>
timed_run drive(runtime& rt, mailbox& box, const char* what, F body, Args... args) {
  timed_run run;
  rt.spawn(body, &run, args..., box.self());
  await_done(box, what);
  return run;
}

void run_bench(runtime& rt, mailbox& box, const std::string& bench, int argc, char** argv) {
  if (bench == "spawn") {
    std::int64_t n = arg(argc, argv, 3, 1000000);
    bench_spawn(rt, box, "spawn", n);
    if (arg(argc, argv, 4, 2) >= 2) {
      bench_spawn(rt, box, "spawn_warm", n);
    }
  } else if (bench == "spawn_exit") {
    std::int64_t n = arg(argc, argv, 3, 1000000);
    auto r = drive(rt, box, "spawn_exit", exit_spawner, n);
    emit(bench, n, seconds(r.t0, r.t1), "");
  } else if (bench == "pingpong") {
    std::int64_t m = arg(argc, argv, 3, 1000000);
    auto r = drive(rt, box, "pingpong", ping, m);
    double s = seconds(r.t0, r.t1);
    emit(bench, m, s, kv("msgs_per_sec", 2.0 * static_cast<double>(m) / s));
  } else if (bench == "oneway") {
    std::int64_t m = arg(argc, argv, 3, 1000000);
    auto r = drive(rt, box, "oneway", oneway_sender, m);
    if (r.value != m * (m - 1) / 2) {
      fail("oneway: bad sum");
    }
    double s = seconds(r.t0, r.t1);
    emit(bench, m, s, kv("msgs_per_sec", static_cast<double>(m) / s));
  } else if (bench == "ring") {
    std::int64_t n = arg(argc, argv, 3, 1000);
    std::int64_t m = arg(argc, argv, 4, 1000);
    auto r = drive(rt, box, "ring", ring_driver, n, m);
    double s = seconds(r.t0, r.t1);
    emit(bench, n * m, s,
         kv("ring_size", static_cast<long long>(n)) + kv("rounds", static_cast<long long>(m))
             + kv("hops_per_sec", static_cast<double>(n * m) / s));
  } else if (bench == "skynet") {
    std::int64_t leaves = arg(argc, argv, 3, 1000000);
    std::int64_t div = arg(argc, argv, 4, 10);
    auto t0 = steady::now();
    rt.spawn(skynet, box.self(), std::int64_t{0}, leaves, div);
    auto r = box.receive(kTimeout);
    auto t1 = steady::now();
    if (!r || r.message[1].as_integer() != leaves * (leaves - 1) / 2) {
      fail("skynet: bad sum or timeout");
    }
    emit(bench, skynet_procs(leaves, div), seconds(t0, t1),
         kv("leaves", static_cast<long long>(leaves))
             + kv("sum", static_cast<long long>(r.message[1].as_integer())) + ",\"sum_ok\":true"
             + kv("ms", seconds(t0, t1) * 1e3));
  } else if (bench == "selective") {
    std::int64_t junk = arg(argc, argv, 3, 0);
    std::int64_t rounds = arg(argc, argv, 4, 100000);
    auto r = drive(rt, box, "selective", selector, junk, rounds);
    if (r.value != junk) {
      fail("selective: the junk messages were disturbed");
    }
    double s = seconds(r.t0, r.t1);
    emit("selective_" + std::to_string(junk), rounds, s,
         kv("junk", static_cast<long long>(junk))
             + kv("us_per_match", s * 1e6 / static_cast<double>(rounds)));
  } else if (bench == "fanout") {
    std::int64_t k = arg(argc, argv, 3, 100000);
    auto r = drive(rt, box, "fanout", fan_client, k);
    if (r.value != k * (k - 1) / 2) {
      fail("fanout: bad sum");
    }
    double s = seconds(r.t0, r.t1);
    emit(bench, k, s, kv("reqs_per_sec", static_cast<double>(k) / s));
  } else {
    fail("unknown bench " + bench);
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s spawn|spawn_exit|pingpong|oneway|ring|skynet|selective|fanout "
                 "THREADS [ARGS]\n",
                 argv[0]);
    return 2;
  }
  vigil::bench::threads = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
  if (vigil::bench::threads == 0) {
    vigil::bench::threads = 1;
  }
  vigil::runtime_options options;
  options.schedulers = vigil::bench::threads;
  vigil::runtime rt(options);
  auto box = rt.make_mailbox();
  run_bench(rt, *box, argv[1], argc, argv);
  box.reset();
  return 0;
}
