// SPDX-License-Identifier: Apache-2.0
// OS-process restarts and port messaging, the anchors' way (../shared/bench-anchors/os/,
// README sections B and C): 10 command children each write their start stamp to a FIFO;
// svc0's child is SIGKILLed and the latency is the new child's stamp minus the time just
// before the kill. The fork+exec floor (calib_fork_exec) is measured in the same run.
//
//   os_restart_bench --child os_restart_child [--n-long 50] [--n-quick 20] [--hold 0.5]
//                    [--calib-runs 200] [--idle 5] [--roundtrips 20000]
//                    [--sdk-echo vigil_sdk_echo] [--worker vigil-worker]
//                    [--cgroup off|auto] [--default-pids N]
//
// One JSON line per result (impl "vigil", "vigil+cgroup" or, with --default-pids,
// "vigil+cgroup+pids"); docs/os-workers.md shows them beside the anchors.
#include "vigil/os/launch.hpp"
#include "vigil/os/service.hpp"
#include "vigil/supervision/client.hpp"
#include "vigil/supervision/supervisor.hpp"
#include "vigil/workers/child_factory.hpp"

#include "os_bench_util.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

namespace {

using namespace vigil;
using namespace vigil::bench;
using namespace std::chrono_literals;

/// "vigil", or "vigil+cgroup" when each child gets a cgroup (--cgroup auto): the restart
/// figures of both sit in one table.
const char* impl_name = "vigil";

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> a{
      {"--n-long", "50"},      {"--n-quick", "20"}, {"--hold", "0.5"},
      {"--calib-runs", "200"}, {"--idle", "5"},     {"--roundtrips", "20000"},
      {"--services", "10"},    {"--cgroup", "off"}, {"--default-pids", "0"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    a[argv[i]] = argv[i + 1];
  }
  return a;
}

/// fork() + exec of `child --print-start`: the time until its main() reads the clock. The
/// floor for any restart (calib.c's calib_fork_exec).
void calib_fork_exec(const std::string& child, int runs) {
  std::vector<std::int64_t> lat;
  for (int i = 0; i < runs; ++i) {
    int p[2];
    if (::pipe(p) != 0) {
      return;
    }
    std::int64_t t0 = mono_ns();
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(p[1], 1);
      ::close(p[0]);
      ::close(p[1]);
      ::execl(child.c_str(), child.c_str(), "--print-start", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(p[1]);
    char buf[64] = {};
    ssize_t got = ::read(p[0], buf, sizeof buf - 1);
    ::close(p[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (got > 0) {
      lat.push_back(std::strtoll(buf, nullptr, 10) - t0);
    }
  }
  emit_latency("calib_fork_exec", "c-bench", lat);
}

/// The same with Vigil's launcher (clone(CLONE_VM | CLONE_VFORK) and the child's setup:
/// new session, parent-death signal, descriptors, signal reset).
void calib_launch(const std::string& child, int runs) {
  std::vector<std::int64_t> lat;
  for (int i = 0; i < runs; ++i) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return;
    }
    os::launch_spec spec;
    spec.program = child;
    spec.argv = {child, "--print-start"};
    spec.fds = {-1, p[1], 2};
    std::int64_t t0 = mono_ns();
    auto l = os::launch(spec);
    ::close(p[1]);
    char buf[64] = {};
    ssize_t got = ::read(p[0], buf, sizeof buf - 1);
    ::close(p[0]);
    if (l) {
      siginfo_t info{};
      ::waitid(P_PID, static_cast<id_t>(l->pid), &info, WEXITED);
    }
    if (got > 0) {
      lat.push_back(std::strtoll(buf, nullptr, 10) - t0);
    }
  }
  emit_latency("calib_launch", "vigil", lat);
}

supervision::child_spec service_child(int i, const std::string& child, const std::string& fifo) {
  supervision::child_spec c;
  c.id = "svc" + std::to_string(i);
  c.mode = "command";
  c.os.command = {child, fifo};
  c.shutdown = supervision::shutdown_policy::brutal_kill();
  return c;
}

/// restart_long and restart_quick on svc0, as restart_bench.py runs them.
void restarts(stamp_reader& ev, std::pair<long, std::int64_t> first, int n_long, int n_quick,
              double hold) {
  auto [pid, ts] = first;
  auto hold_ns = static_cast<std::int64_t>(hold * 1e9);
  std::vector<std::int64_t> deaths;
  auto kill_and_wait = [&](std::vector<std::int64_t>* out) {
    // The kernel's part, seen from here too: SIGKILL until the child's exit is visible on a
    // pidfd (what wakes the reactor). No floor includes it, every supervisor pays it.
    int pfd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0U));
    std::int64_t t_kill = mono_ns();
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    pollfd p{pfd, POLLIN, 0};
    if (pfd >= 0 && ::poll(&p, 1, 1000) == 1 && out != nullptr) {
      deaths.push_back(mono_ns() - t_kill);
    }
    ::close(pfd);
    auto e = ev.next(0, 15000);
    if (!e) {
      std::fprintf(stderr, "no restart within 15 s\n");
      std::exit(1);
    }
    if (out != nullptr) {
      out->push_back(e->second - t_kill);
    }
    pid = e->first;
    ts = e->second;
  };
  std::vector<std::int64_t> lat;
  for (int k = 0; k < n_long; ++k) {
    std::int64_t age = mono_ns() - ts;
    if (age < hold_ns) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(hold_ns - age));
    }
    kill_and_wait(&lat);
  }
  emit_latency("restart_long", impl_name, lat, ",\"hold_s\":" + std::to_string(hold));
  emit_latency("restart_long_death", impl_name, deaths);
  deaths.clear();
  std::vector<std::int64_t> quick;
  kill_and_wait(nullptr);
  for (int k = 0; k < n_quick; ++k) {
    kill_and_wait(&quick);
  }
  emit_latency("restart_quick", impl_name, quick);
  emit_latency("restart_quick_death", impl_name, deaths);
}

/// CPU time of the whole daemon-side process (runtime, reactor, pumps) with the children idle.
void idle_cost(double seconds, int services) {
  std::this_thread::sleep_for(1s);
  std::int64_t c0 = self_cpu_ns();
  std::int64_t t0 = mono_ns();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  double win = static_cast<double>(mono_ns() - t0) / 1e9;
  double cpu = static_cast<double>(self_cpu_ns() - c0);
  std::printf("{\"bench\":\"sup_idle\",\"impl\":\"vigil\",\"n\":%d,\"seconds\":%.3f,"
              "\"per_op_ns\":%.0f,\"rss_kb\":%ld,\"cpu_ms\":%.3f}\n",
              services, win, cpu / win, self_kb("VmRSS:"), cpu / 1e6);
}

/// Round trips {self, :ping} -> {:ok, :pong} through a port and its worker's channel.
void roundtrips(runtime& rt, os::service& svc, const char* bench,
                const supervision::child_spec& spec, int n) {
  auto box = rt.make_mailbox();
  box->ctx().trap_exit(true);
  auto port = svc.start(box->ctx(), spec);
  if (!port) {
    std::fprintf(stderr, "%s: %s\n", bench, port.error().message().c_str());
    return;
  }
  const term ping = vigil::make_tuple(box->self(), atoms::ping);
  box->ctx().send(*port, ping);
  (void)box->receive(30s); // attached and warm
  std::vector<std::int64_t> lat;
  lat.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::int64_t t0 = mono_ns();
    box->ctx().send(*port, ping);
    if (!box->receive(5s)) {
      break;
    }
    lat.push_back(mono_ns() - t0);
  }
  emit_latency(bench, "vigil", lat);
  std::int64_t t0 = mono_ns();
  int window = 64;
  int sent = 0;
  int got = 0;
  while (got < n) {
    while (sent < n && sent - got < window) {
      box->ctx().send(*port, ping);
      ++sent;
    }
    if (!box->receive(5s)) {
      break;
    }
    ++got;
  }
  double secs = static_cast<double>(mono_ns() - t0) / 1e9;
  std::printf("{\"bench\":\"%s_pipelined\",\"impl\":\"vigil\",\"n\":%d,\"seconds\":%.6f,"
              "\"per_op_ns\":%.0f,\"rss_kb\":%ld,\"msgs_per_s\":%.0f,\"window\":%d}\n",
              bench, got, secs, secs * 1e9 / got, self_kb("VmRSS:"), got / secs, window);
  rt.exit(*port, atoms::kill);
}

} // namespace

int main(int argc, char** argv) {
  auto a = parse(argc, argv);
  if (a.count("--child") == 0) {
    std::fprintf(stderr, "usage: os_restart_bench --child PATH [options]\n");
    return 2;
  }
  std::string child = std::filesystem::absolute(a["--child"]).string();
  int services = std::stoi(a["--services"]);
  calib_fork_exec(child, std::stoi(a["--calib-runs"]));
  calib_launch(child, std::stoi(a["--calib-runs"]));

  char tmpl[] = "/tmp/vigil-os-bench-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl);
  runtime rt;
  os::service_options opts;
  opts.logs.dir = dir / "logs";
  if (a.count("--worker") != 0) {
    opts.worker_program = a["--worker"];
  }
  // --cgroup auto: each child in a cgroup of its own, as vigild's default (docs/os-workers.md).
  os::cgroup_config cg;
  cg.mode = a["--cgroup"];
  cg.on_warning = [](const std::string& w) { std::fprintf(stderr, "%s\n", w.c_str()); };
  // --default-pids N: each child under pids.max = N, as vigild's daemon.default_pids (on a
  // hybrid host through v1, which its start pays for); 0, the default: none.
  if (auto pids = std::stoull(a["--default-pids"]); pids > 0) {
    cg.default_pids = pids;
  }
  opts.cgroups = os::cgroup_tree::open(cg);
  if (opts.cgroups) {
    impl_name = opts.cgroups->default_pids() ? "vigil+cgroup+pids" : "vigil+cgroup";
  }
  std::fprintf(stderr, "cgroups: %s\n", opts.cgroups ? opts.cgroups->base().c_str() : "off");
  os::service svc(rt, opts);
  stamp_reader ev;
  supervision::supervisor_spec spec;
  spec.name = "bench";
  spec.intensity = 1000000;
  spec.period = 1000ms;
  for (int i = 0; i < services; ++i) {
    auto fifo = (dir / ("svc" + std::to_string(i) + ".fifo")).string();
    ev.add(fifo);
    spec.children.push_back(service_child(i, child, fifo));
  }
  auto kinds = workers::kind_registry::with_builtins();
  auto box = rt.make_mailbox();
  auto sup = supervision::start_supervisor(*box, spec, workers::make_child_factory(kinds, svc),
                                           {.link = false});
  if (!sup) {
    std::fprintf(stderr, "%s\n", sup.error().message().c_str());
    return 1;
  }
  std::vector<std::pair<long, std::int64_t>> first;
  for (int i = 0; i < services; ++i) {
    auto e = ev.next(static_cast<std::size_t>(i), 20000);
    if (!e) {
      std::fprintf(stderr, "svc%d never started\n", i);
      return 1;
    }
    first.push_back(*e);
  }
  idle_cost(std::stod(a["--idle"]), services);
  restarts(ev, first[0], std::stoi(a["--n-long"]), std::stoi(a["--n-quick"]),
           std::stod(a["--hold"]));
  int n = std::stoi(a["--roundtrips"]);
  if (n > 0 && a.count("--sdk-echo") != 0) {
    supervision::child_spec c;
    c.id = "sdk_echo";
    c.mode = "command";
    c.os.command = {a["--sdk-echo"]};
    roundtrips(rt, svc, "port_roundtrip_sdk", c, n);
  }
  supervision::child_spec w;
  w.id = "echo";
  w.mode = "process";
  w.kind = "echo";
  if (n > 0) {
    roundtrips(rt, svc, "port_roundtrip_worker", w, n);
  }
  (void)supervision::stop_supervisor(*box, *sup, atoms::shutdown);
  box.reset();
  rt.shutdown();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
