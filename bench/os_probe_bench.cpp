// SPDX-License-Identifier: Apache-2.0
// The cost of health checks (issue #14): CHILDREN command children (`sleep`), each with an
// HTTP health check every INTERVAL against one nginx (itself an OS child, ready by HTTP), and
// over SECONDS the CPU time and context switches of the OS reactor's thread (the only thread
// that runs checks) and of the whole process, from /proc/self/task/TID/{stat,status}.
//
//   os_probe_bench [--children 100] [--seconds 60] [--interval-ms 10000] [--nginx /usr/sbin/nginx]
//
// --interval-ms 0 runs the same children without checks: the baseline.
//
// One JSON line per figure. bench/probe_load.sh runs it from a release build.
#include "vigil/os/service.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace {

using namespace vigil;
using namespace std::chrono_literals;

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> a{{"--children", "100"},
                                       {"--seconds", "60"},
                                       {"--interval-ms", "10000"},
                                       {"--nginx", "/usr/sbin/nginx"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    a[argv[i]] = argv[i + 1];
  }
  return a;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// utime + stime in clock ticks, from a stat file.
long long cpu_ticks(const std::string& stat) {
  std::string text = slurp(stat);
  auto close = text.rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream in(text.substr(close + 2));
  std::string field;
  long long utime = 0;
  long long stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) {
      utime = std::stoll(field);
    } else if (i == 15) {
      stime = std::stoll(field);
    }
  }
  return utime + stime;
}

long long status_field(const std::string& status, const std::string& key) {
  std::istringstream in(slurp(status));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::stoll(line.substr(key.size() + 1));
    }
  }
  return 0;
}

std::string reactor_task() {
  DIR* d = ::opendir("/proc/self/task");
  std::string found;
  while (dirent* e = d != nullptr ? ::readdir(d) : nullptr) {
    std::string tid = e->d_name;
    if (tid != "." && tid != ".."
        && slurp("/proc/self/task/" + tid + "/comm").rfind("vigil-os-react", 0) == 0) {
      found = "/proc/self/task/" + tid;
    }
  }
  if (d != nullptr) {
    ::closedir(d);
  }
  return found;
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct sample {
  long long reactor_ticks, reactor_vol, reactor_invol, process_ticks;
};

sample take(const std::string& task) {
  return {cpu_ticks(task + "/stat"), status_field(task + "/status", "voluntary_ctxt_switches"),
          status_field(task + "/status", "nonvoluntary_ctxt_switches"),
          cpu_ticks("/proc/self/stat")};
}

void emit(const std::string& name, double value, const std::string& unit, int children,
          int interval_ms, int seconds) {
  std::printf("{\"impl\":\"vigil\",\"bench\":\"%s\",\"value\":%.3f,\"unit\":\"%s\","
              "\"children\":%d,\"interval_ms\":%d,\"seconds\":%d}\n",
              name.c_str(), value, unit.c_str(), children, interval_ms, seconds);
}

} // namespace

int main(int argc, char** argv) {
  auto a = parse(argc, argv);
  int children = std::stoi(a["--children"]);
  int seconds = std::stoi(a["--seconds"]);
  int interval_ms = std::stoi(a["--interval-ms"]);
  char tmpl[] = "/tmp/vigil-probe-bench-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl);
  std::filesystem::create_directories(dir / "tmp");
  auto port = free_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/healthz";
  {
    std::ofstream conf(dir / "nginx.conf");
    conf << "daemon off;\nworker_processes 1;\npid " << (dir / "nginx.pid").string()
         << ";\nerror_log " << (dir / "error.log").string()
         << ";\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n"
         << "  client_body_temp_path " << (dir / "tmp").string() << ";\n"
         << "  server {\n    listen 127.0.0.1:" << port << ";\n"
         << "    location / { return 200 \"ok\\n\"; }\n  }\n}\n";
  }

  int rc = 0;
  {
    runtime rt(runtime_options{.schedulers = 2});
    os::service_options so;
    so.logs.dir = dir / "logs";
    os::service svc(rt, so);
    auto box = rt.make_mailbox();
    box->ctx().trap_exit(true);
    const atom ready_tag("$vigil_ready");

    supervision::child_spec web;
    web.id = "nginx";
    web.mode = "command";
    web.os.command = {a["--nginx"],
                      "-p",
                      dir.string(),
                      "-c",
                      (dir / "nginx.conf").string(),
                      "-e",
                      (dir / "error.log").string()};
    web.ready.kind = supervision::probe_kind::http;
    web.ready.target = url;
    web.ready.interval = 20ms;
    auto nginx = svc.start(box->ctx(), web);
    if (!nginx
        || !box->receive(pattern::tuple({ready_tag, term(*nginx), pattern::any()}), timeout(20s))) {
      std::cerr << "nginx did not start\n";
      return 1;
    }
    for (int i = 0; i < children; ++i) {
      supervision::child_spec c;
      c.id = "checked" + std::to_string(i);
      c.mode = "command";
      c.os.command = {"sleep", "100000"};
      // --interval-ms 0: the same children without checks, the baseline.
      c.health.kind =
          interval_ms > 0 ? supervision::probe_kind::http : supervision::probe_kind::started;
      c.health.target = url;
      c.health.interval = std::chrono::milliseconds(interval_ms);
      c.health.timeout = 2s;
      if (!svc.start(box->ctx(), c)) {
        std::cerr << "child " << i << " did not start\n";
        return 1;
      }
    }
    std::string task = reactor_task();
    if (task.empty()) {
      std::cerr << "no reactor thread found\n";
      return 1;
    }
    // Let the starts settle (their output, first checks' scheduling), then measure.
    std::this_thread::sleep_for(1s);
    sample s0 = take(task);
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    sample s1 = take(task);
    double tick_ms = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    double expected =
        interval_ms > 0 ? static_cast<double>(children) * seconds * 1000.0 / interval_ms : 0.0;
    emit("probe_reactor_cpu_ms", static_cast<double>(s1.reactor_ticks - s0.reactor_ticks) * tick_ms,
         "ms", children, interval_ms, seconds);
    emit("probe_reactor_wakeups", static_cast<double>(s1.reactor_vol - s0.reactor_vol), "count",
         children, interval_ms, seconds);
    emit("probe_reactor_preemptions", static_cast<double>(s1.reactor_invol - s0.reactor_invol),
         "count", children, interval_ms, seconds);
    emit("probe_process_cpu_ms", static_cast<double>(s1.process_ticks - s0.process_ticks) * tick_ms,
         "ms", children, interval_ms, seconds);
    emit("probe_checks_expected", expected, "count", children, interval_ms, seconds);
    // Every child still runs: no check failed against the one nginx.
    rc = svc.live_children() == static_cast<std::size_t>(children) + 1 ? 0 : 2;
    if (rc != 0) {
      std::cerr << "children died: " << svc.live_children() << " live\n";
    }
    box.reset();
    rt.shutdown();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
