// SPDX-License-Identifier: Apache-2.0
// The shared-memory channel between two real processes (this one and a fork()ed child),
// beside a socketpair carrying the same frames in the same run:
//   ipc_roundtrip  one 64-byte frame there and back, timed one by one (p50/p99)
//   ipc_oneway     64-byte frames from the child as fast as they go, timed per batch of 1000
// Each message is a term (a 57-byte string: a 64-byte frame), encoded by the sender and
// decoded by the receiver on both transports. Usage: ipc_bench [ROUNDTRIPS=200000]
// [ONEWAY=2000000]. Prints one JSON line per result (docs/ipc.md, "Performance").
#include "vigil/ipc/channel.hpp"
#include "vigil/ipc/codec.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace vigil;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const atom a_stop("stop");
const atom a_go("go");
constexpr std::size_t kBatch = 1000;

term message() {
  return term(std::string(57, 'm'));
}

long rss_kb() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::atol(line.c_str() + 6);
    }
  }
  return 0;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "ipc_bench: %s\n", what.c_str());
  std::exit(1);
}

double percentile(std::vector<double>& v, double p) {
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void report(const char* bench, const char* impl, std::size_t n, double seconds,
            std::vector<double> samples_ns) {
  double p50 = percentile(samples_ns, 0.50);
  double p99 = percentile(samples_ns, 0.99);
  std::printf("{\"bench\":\"%s\",\"impl\":\"%s\",\"n\":%zu,\"seconds\":%.6f,\"per_op_ns\":%.1f,"
              "\"p50_ns\":%.1f,\"p99_ns\":%.1f,\"msgs_per_s\":%.0f,\"msg_bytes\":64,"
              "\"rss_kb\":%ld}\n",
              bench, impl, n, seconds, seconds * 1e9 / static_cast<double>(n), p50, p99,
              static_cast<double>(n) / seconds, rss_kb());
  std::fflush(stdout);
}

double ns_since(steady::time_point t) {
  return std::chrono::duration<double, std::nano>(steady::now() - t).count();
}

// ---- the ring ----

template <class Body>
pid_t spawn(Body body) {
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) {
    die("fork failed");
  }
  if (pid == 0) {
    ::alarm(600);
    ::_exit(body());
  }
  return pid;
}

void reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    die("child failed with status " + std::to_string(status));
  }
}

/// Channel options; IPC_BENCH_SPIN_NS overrides the spin budget for experiments.
ipc::channel_options bench_options() {
  ipc::channel_options o;
  if (const char* spin = std::getenv("IPC_BENCH_SPIN_NS")) {
    o.spin = std::chrono::nanoseconds(std::atol(spin));
  }
  return o;
}

ipc::channel worker_end(int fd) {
  ipc::channel_options o = bench_options();
  o.limits.create_atoms = true;
  auto ch = ipc::channel::attach(unique_fd(::dup(fd)), o);
  if (!ch) {
    ::_exit(10);
  }
  return std::move(*ch);
}

term must_receive(ipc::channel& ch) {
  auto r = ch.receive(10s);
  if (!r || !r->has_value()) {
    die(r ? "receive timed out" : r.error().message());
  }
  return std::move(**r);
}

void must_send(ipc::channel& ch, const term& t) {
  auto s = ch.send(t, {ipc::full_policy::wait, 10s});
  if (!s || *s != ipc::send_status::sent) {
    die(s ? "send timed out" : s.error().message());
  }
}

std::pair<ipc::channel, pid_t> ring_child(int (*body)(int)) {
  auto ch = ipc::channel::create(bench_options());
  if (!ch) {
    die(ch.error().message());
  }
  int fd = ch->fd();
  pid_t pid = spawn([body, fd] { return body(fd); });
  if (auto ok = ch->accept(pid, 10s); !ok) {
    die(ok.error().message());
  }
  return {std::move(*ch), pid};
}

int ring_echo(int fd) {
  auto ch = worker_end(fd);
  for (;;) {
    term t = must_receive(ch);
    if (t == term(a_stop)) {
      return 0;
    }
    must_send(ch, t);
  }
}

void ring_roundtrip(std::size_t n) {
  auto [ch, pid] = ring_child(ring_echo);
  term m = message();
  std::vector<double> samples;
  samples.reserve(n);
  for (std::size_t i = 0; i < n / 10; ++i) {
    must_send(ch, m);
    (void)must_receive(ch);
  }
  auto start = steady::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto t0 = steady::now();
    must_send(ch, m);
    (void)must_receive(ch);
    samples.push_back(ns_since(t0));
  }
  double secs = ns_since(start) / 1e9;
  must_send(ch, term(a_stop));
  reap(pid);
  report("ipc_roundtrip", "ring", n, secs, std::move(samples));
}

std::size_t g_oneway = 0;

int ring_flood(int fd) {
  auto ch = worker_end(fd);
  (void)must_receive(ch); // go
  term m = message();
  for (std::size_t i = 0; i < g_oneway; ++i) {
    must_send(ch, m);
  }
  return 0;
}

void ring_oneway(std::size_t n) {
  g_oneway = n;
  auto [ch, pid] = ring_child(ring_flood);
  std::vector<double> samples;
  auto start = steady::now();
  must_send(ch, term(a_go));
  auto batch = start;
  for (std::size_t i = 1; i <= n; ++i) {
    (void)must_receive(ch);
    if (i % kBatch == 0) {
      samples.push_back(ns_since(batch) / kBatch);
      batch = steady::now();
    }
  }
  double secs = ns_since(start) / 1e9;
  reap(pid);
  report("ipc_oneway", "ring", n, secs, std::move(samples));
}

// ---- the socketpair ----

/// A stream of frames over one socket end: one write() per frame, reads 64 KiB at a time.
class stream {
public:
  explicit stream(int fd) : fd_(fd) {}

  void send(const term& t) {
    out_.clear();
    ipc::encode(t, out_);
    const char* p = out_.data();
    std::size_t left = out_.size();
    while (left > 0) {
      ssize_t k = ::write(fd_, p, left);
      if (k <= 0) {
        die("socket write failed");
      }
      p += k;
      left -= static_cast<std::size_t>(k);
    }
  }

  term receive() {
    for (;;) {
      std::string_view have(in_.data() + used_, in_.size() - used_);
      if (have.size() >= ipc::header_size) {
        auto size = ipc::frame_size(std::as_bytes(std::span(have.data(), have.size())));
        if (!size) {
          die(size.error().message());
        }
        if (have.size() >= *size) {
          auto t = ipc::decode(have.substr(0, *size));
          if (!t) {
            die(t.error().message());
          }
          used_ += *size;
          return std::move(*t);
        }
      }
      in_.erase(0, used_);
      used_ = 0;
      std::size_t old = in_.size();
      in_.resize(old + 65536);
      ssize_t k = ::read(fd_, in_.data() + old, 65536);
      if (k <= 0) {
        die("socket read failed");
      }
      in_.resize(old + static_cast<std::size_t>(k));
    }
  }

private:
  int fd_;
  std::string out_;
  std::string in_;
  std::size_t used_ = 0;
};

std::pair<stream, pid_t> socket_child(int (*body)(int)) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    die("socketpair failed");
  }
  int child_fd = sv[1];
  pid_t pid = spawn([body, child_fd] { return body(child_fd); });
  ::close(sv[1]);
  return {stream(sv[0]), pid};
}

int socket_echo(int fd) {
  stream s(fd);
  for (;;) {
    term t = s.receive();
    if (t == term(a_stop)) {
      return 0;
    }
    s.send(t);
  }
}

int socket_flood(int fd) {
  stream s(fd);
  (void)s.receive();
  term m = message();
  for (std::size_t i = 0; i < g_oneway; ++i) {
    s.send(m);
  }
  return 0;
}

void socket_roundtrip(std::size_t n) {
  auto [s, pid] = socket_child(socket_echo);
  term m = message();
  std::vector<double> samples;
  samples.reserve(n);
  for (std::size_t i = 0; i < n / 10; ++i) {
    s.send(m);
    (void)s.receive();
  }
  auto start = steady::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto t0 = steady::now();
    s.send(m);
    (void)s.receive();
    samples.push_back(ns_since(t0));
  }
  double secs = ns_since(start) / 1e9;
  s.send(term(a_stop));
  reap(pid);
  report("ipc_roundtrip", "socketpair", n, secs, std::move(samples));
}

void socket_oneway(std::size_t n) {
  g_oneway = n;
  auto [s, pid] = socket_child(socket_flood);
  std::vector<double> samples;
  auto start = steady::now();
  s.send(term(a_go));
  auto batch = start;
  for (std::size_t i = 1; i <= n; ++i) {
    (void)s.receive();
    if (i % kBatch == 0) {
      samples.push_back(ns_since(batch) / kBatch);
      batch = steady::now();
    }
  }
  double secs = ns_since(start) / 1e9;
  reap(pid);
  report("ipc_oneway", "socketpair", n, secs, std::move(samples));
}

} // namespace

int main(int argc, char** argv) {
  std::size_t roundtrips = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200'000;
  std::size_t oneway = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2'000'000;
  if (roundtrips < 100 || oneway < kBatch) {
    die("usage: ipc_bench [ROUNDTRIPS>=100] [ONEWAY>=1000]");
  }
  if (ipc::encode(message()).size() != 64) {
    die("the message is not a 64-byte frame");
  }
  ring_roundtrip(roundtrips);
  socket_roundtrip(roundtrips);
  ring_oneway(oneway);
  socket_oneway(oneway);
  return 0;
}
