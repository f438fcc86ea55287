// SPDX-License-Identifier: Apache-2.0
// os_test_child MODE [ARGS]: the OS child the OS-worker tests run, one behaviour per mode.
#include "vigil/ipc/channel.hpp"
#include "vigil/worker_sdk/worker.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace {

using namespace vigil;

[[noreturn]] void sleep_forever() {
  alarm(300); // bounded: a leaked child disappears by itself
  for (;;) {
    pause();
  }
}

void print_fds() {
  DIR* d = opendir("/proc/self/fd");
  int own = dirfd(d);
  std::string out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.' || std::atoi(e->d_name) == own) {
      continue;
    }
    out += std::string(out.empty() ? "" : " ") + e->d_name;
  }
  closedir(d);
  std::printf("fds %s\n", out.c_str());
}

void print_ids() {
  gid_t groups[64];
  int n = getgroups(64, groups);
  std::string g;
  for (int i = 0; i < n; ++i) {
    g += std::string(i > 0 ? "," : "") + std::to_string(groups[i]);
  }
  std::printf("ids %u %u %s\n", getuid(), getgid(), g.c_str());
}

void print_process() {
  int sig = 0;
  prctl(PR_GET_PDEATHSIG, &sig);
  mode_t mask = umask(0);
  char cwd[4096] = {};
  if (getcwd(cwd, sizeof cwd) == nullptr) {
    cwd[0] = '?';
  }
  sigset_t blocked;
  sigprocmask(SIG_SETMASK, nullptr, &blocked);

  struct sigaction pipe_action {};

  sigaction(SIGPIPE, nullptr, &pipe_action);
  std::printf("proc pid=%d sid=%d pgrp=%d pdeathsig=%d umask=%03o cwd=%s blocked_term=%d "
              "pipe_ignored=%d\n",
              getpid(), getsid(0), getpgrp(), sig, mask, cwd, sigismember(&blocked, SIGTERM),
              pipe_action.sa_handler == SIG_IGN ? 1 : 0);
}

/// Forks a grandchild that writes its pid into `file` and sleeps; then sleeps too.
[[noreturn]] void grandchild(const char* file) {
  pid_t g = fork();
  if (g == 0) {
    FILE* f = std::fopen(file, "w");
    std::fprintf(f, "%d\n", getpid());
    std::fclose(f);
    sleep_forever();
  }
  sleep_forever();
}

[[noreturn]] void garbage(long bytes) {
  std::mt19937 rng(42);
  std::string junk;
  for (long i = 0; i < bytes; ++i) {
    auto c = static_cast<char>(rng() & 0xFF);
    junk += c == '\n' ? '\xFF' : c;
  }
  (void)!write(1, junk.data(), junk.size());
  (void)!write(1, "\ntail line\n", 11);
  sleep_forever();
}

/// The storm's echo: answers {from, seq, payload, sum} with {seq, payload, sum} once the
/// sum checks out, or {:torn, seq}.
int storm_echo() {
  auto w = sdk::worker::from_env();
  if (!w) {
    return 100;
  }
  const atom torn("torn");
  for (;;) {
    auto d = w->receive(std::chrono::seconds(1));
    if (!d) {
      return 0;
    }
    if (!*d) {
      continue;
    }
    const term& m = (*d)->message;
    if (!m.is_tuple() || m.size() != 4 || !m[0].is_pid()) {
      continue;
    }
    auto payload = m[2].as_string();
    std::uint64_t sum = 1469598103934665603ULL;
    for (char c : payload) {
      sum = (sum ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    term reply = static_cast<std::int64_t>(sum & 0x7FFFFFFFFFFFFFFF) == m[3].as_integer()
                     ? vigil::make_tuple(m[1], m[2], m[3])
                     : vigil::make_tuple(torn, m[1]);
    (void)w->send(m[0].as_pid(), reply);
  }
}

/// Attaches, then scribbles over its outgoing ring: a head far past anything published.
[[noreturn]] void ring_garbage() {
  auto w = sdk::worker::from_env();
  if (w) {
    auto mem = w->channel().memory();
    const auto* h = reinterpret_cast<const ipc::channel_header*>(mem.data());
    auto* ring = reinterpret_cast<ipc::ring_header*>(mem.data() + h->to_creator_offset);
    std::memset(mem.data() + h->to_creator_offset + sizeof(ipc::ring_header), 0x5A, 256);
    ring->head.store(136, std::memory_order_seq_cst);
    ring->reader_sleeping.store(0);
    // As a writer wakes vigild's reader: through the wake eventfd (docs/worker-sdk.md).
    if (const char* wake = std::getenv("VIGIL_WAKE_FD")) {
      std::uint64_t one = 1;
      (void)!write(std::atoi(wake), &one, sizeof one);
    }
  }
  sleep_forever();
}

/// Sends to a name made of an atom that only this process knows.
[[noreturn]] void unknown_atom() {
  if (auto w = sdk::worker::from_env()) {
    (void)w->send(atom("vigil_test_atom_the_daemon_never_saw"), atoms::ok);
  }
  sleep_forever();
}

/// Waits for {pid, :go}, then sends integers to that pid as fast as its ring takes them,
/// until it is killed.
[[noreturn]] void flood() {
  if (auto w = sdk::worker::from_env()) {
    for (;;) {
      auto d = w->receive(std::chrono::seconds(1));
      if (!d) {
        break;
      }
      if (*d && (*d)->message.is_tuple() && (*d)->message.size() == 2
          && (*d)->message[0].is_pid()) {
        pid to = (*d)->message[0].as_pid();
        for (std::int64_t i = 0;; ++i) {
          (void)w->send(to, term(i));
        }
      }
    }
  }
  sleep_forever();
}

/// Adds 1 to the daemon's wake eventfd (VIGIL_WAKE_FD).
void poke_daemon(int wake) {
  std::uint64_t one = 1;
  (void)!write(wake, &one, sizeof one);
}

/// Hammers the daemon's wake eventfd before attaching, then, once told {pid, :go}, sends
/// integers to that pid as fast as its ring takes them, signalling the eventfd between
/// every two frames, until it is killed.
[[noreturn]] void wake_flood() {
  const char* env = std::getenv("VIGIL_WAKE_FD");
  int wake = env != nullptr ? std::atoi(env) : -1;
  for (int i = 0; i < 100'000 && wake >= 0; ++i) {
    poke_daemon(wake);
  }
  if (auto w = sdk::worker::from_env()) {
    for (;;) {
      auto d = w->receive(std::chrono::seconds(1));
      if (!d) {
        break;
      }
      if (*d && (*d)->message.is_tuple() && (*d)->message.size() == 2
          && (*d)->message[0].is_pid()) {
        pid to = (*d)->message[0].as_pid();
        for (std::int64_t i = 0;; ++i) {
          poke_daemon(wake);
          (void)w->send(to, term(i));
        }
      }
    }
  }
  sleep_forever();
}

/// Attaches without ever signalling the daemon (no wake descriptor), waits for {pid, :go},
/// answers {:before_exit, N} for N in 0..99 to that pid and exits 0 at once.
int silent_then_exit() {
  const char* fd = std::getenv("VIGIL_CHANNEL_FD");
  if (fd == nullptr) {
    return 100;
  }
  auto w = sdk::worker::attach(std::atoi(fd), 0, -1);
  if (!w) {
    return 101;
  }
  for (;;) {
    auto d = w->receive(std::chrono::seconds(10));
    if (!d || !*d) {
      return 102;
    }
    const term& m = (*d)->message;
    if (m.is_tuple() && m.size() == 2 && m[0].is_pid()) {
      for (std::int64_t i = 0; i < 100; ++i) {
        (void)w->send(m[0].as_pid(), vigil::make_tuple(atom("before_exit"), term(i)));
      }
      return 0;
    }
  }
}

/// Says ready through the SDK twice ("serving", then "again"), then sleeps.
[[noreturn]] void sdk_ready() {
  if (auto w = sdk::worker::from_env()) {
    (void)w->ready("serving");
    (void)w->ready("again");
    std::printf("said ready twice\n");
  }
  sleep_forever();
}

/// Writes a frame the SDK would never make, straight into its channel: "number" a {:ready,
/// 42}, "long" a {:ready, text} of 300 bytes.
[[noreturn]] void forged_ready(std::string_view how) {
  const char* fd = std::getenv("VIGIL_CHANNEL_FD");
  const char* wake = std::getenv("VIGIL_WAKE_FD");
  ipc::channel_options options;
  options.prefault = false;
  options.wake_fd = wake != nullptr ? std::atoi(wake) : -1;
  if (fd != nullptr) {
    if (auto ch = ipc::channel::attach(unique_fd(std::atoi(fd)), options)) {
      term frame = how == "number" ? vigil::make_tuple(sdk::ready_tag(), term(std::int64_t{42}))
                                   : vigil::make_tuple(sdk::ready_tag(), std::string(300, 'x'));
      (void)ch->send(frame);
      std::printf("sent a forged ready\n");
      sleep_forever();
    }
  }
  sleep_forever();
}

/// The next message of the shape {pid, ...} of `size` elements, or nullopt once the daemon is
/// gone.
std::optional<term> next_request(sdk::worker& w, std::size_t size) {
  for (;;) {
    auto d = w.receive(std::chrono::seconds(1));
    if (!d) {
      return std::nullopt;
    }
    if (*d && (*d)->message.is_tuple() && (*d)->message.size() == size
        && (*d)->message[0].is_pid()) {
      return (*d)->message;
    }
  }
}

/// A hostile worker trying to grant itself a pid nobody gave it. Told {from, index, serial}
/// (the numbers of a daemon pid, not the pid), it shows that pid to itself in a send to a pid
/// of its own node, which goes back through its port; once a second, pid-free send to itself
/// has come back (so the port has handled the first), it sends 1 to the made-up pid and :ok
/// to `from`. With `via` ("port"), it is told {from, index, serial, port} and shows the pid to
/// `port` (its own port) instead, which passes it on into the worker the same way.
[[noreturn]] void launder(std::string_view via) {
  auto w = sdk::worker::from_env();
  if (!w) {
    sleep_forever();
  }
  const bool through_port = via == "port";
  while (auto m = next_request(*w, through_port ? 4 : 3)) {
    pid from = (*m)[0].as_pid();
    pid target{0, static_cast<std::uint32_t>((*m)[1].as_integer()),
               static_cast<std::uint32_t>((*m)[2].as_integer())};
    pid own = through_port ? (*m)[3].as_pid() : pid{w->node(), 1, 1};
    (void)w->send(own, vigil::make_tuple(atoms::error, target));
    (void)w->send(own, term(atoms::ok));
    for (;;) {
      auto d = w->receive(std::chrono::seconds(1));
      if (!d || (*d && (*d)->message == term(atoms::ok))) {
        break;
      }
    }
    (void)w->send(target, term(std::int64_t{1}));
    (void)w->send(from, term(atoms::ok));
  }
  sleep_forever();
}

/// A hostile worker given another child's port: told {from, victim}, it sends the victim one
/// of the messages that only the daemon's own code sends a port (`how`: "ready", "os-exit"
/// or "exit-signal"), then :ok to `from`.
[[noreturn]] void forge_port(std::string_view how) {
  auto w = sdk::worker::from_env();
  if (!w) {
    sleep_forever();
  }
  while (auto m = next_request(*w, 2)) {
    pid from = (*m)[0].as_pid();
    pid victim = (*m)[1].as_pid();
    term forged = how == "ready" ? vigil::make_tuple(atom("$vigil_ready"), victim, "forged")
                  : how == "os-exit"
                      ? vigil::make_tuple(atom("$vigil_os_exit"), atoms::normal, atoms::normal)
                      : vigil::make_tuple(atoms::exit, from, atoms::kill);
    (void)w->send(victim, forged);
    (void)w->send(from, term(atoms::ok));
  }
  sleep_forever();
}

/// A hostile worker given another child's port: told {from, victim, index, serial} (the
/// numbers of a daemon pid it was not given), it asks the victim's port for its info with
/// that pid as the one to answer, then sends :ok to `from`.
[[noreturn]] void reflect() {
  auto w = sdk::worker::from_env();
  if (!w) {
    sleep_forever();
  }
  while (auto m = next_request(*w, 4)) {
    pid target{0, static_cast<std::uint32_t>((*m)[2].as_integer()),
               static_cast<std::uint32_t>((*m)[3].as_integer())};
    (void)w->send((*m)[1].as_pid(), vigil::make_tuple(atom("port_info"), target, std::int64_t{1}));
    (void)w->send((*m)[0].as_pid(), term(atoms::ok));
  }
  sleep_forever();
}

/// A hostile worker that has seen one reference: told {from, victim, seen, count}, it sends
/// `victim` {guess, "forged"} for the `count` references made after `seen` (a reference is
/// a counter and a per-daemon salt: the next ones differ in their counter only), then :ok
/// to `from`.
[[noreturn]] void forge_reply() {
  auto w = sdk::worker::from_env();
  if (!w) {
    sleep_forever();
  }
  while (auto m = next_request(*w, 4)) {
    reference seen = (*m)[2].as_reference();
    for (std::int64_t k = 1; k <= (*m)[3].as_integer(); ++k) {
      reference guess{seen.node, seen.a, seen.b + static_cast<std::uint32_t>(k), seen.c};
      (void)w->send((*m)[1].as_pid(), vigil::make_tuple(guess, term("forged")));
    }
    (void)w->send((*m)[0].as_pid(), term(atoms::ok));
  }
  sleep_forever();
}

/// A well-behaved worker answering calls: told {from, ref}, it answers {ref, "answer"}, as a
/// reply to a call, then makes a reference of its own and sends {own, "mine"}.
[[noreturn]] void answer_calls() {
  auto w = sdk::worker::from_env();
  if (!w) {
    sleep_forever();
  }
  while (auto m = next_request(*w, 2)) {
    pid from = (*m)[0].as_pid();
    (void)w->send(from, vigil::make_tuple((*m)[1], term("answer")));
    (void)w->send(from, vigil::make_tuple(w->make_ref(), term("mine")));
  }
  sleep_forever();
}

/// A worker that never reads its ring: told {from, count}, it sends itself `count` terms of
/// 30,000 bytes (each goes back through its port, into its full ring), then :ok to `from`.
[[noreturn]] void hoard() {
  auto w = sdk::worker::from_env();
  if (w) {
    if (auto m = next_request(*w, 2)) {
      pid own{w->node(), 1, 1};
      std::string bulk(30'000, 'h');
      for (std::int64_t i = 0; i < (*m)[1].as_integer(); ++i) {
        (void)w->send(own, term(bulk));
      }
      (void)w->send((*m)[0].as_pid(), term(atoms::ok));
    }
  }
  sleep_forever();
}

/// A worker that stops reading, then resumes: told {from, count}, it sends itself `count`
/// terms {i, 30,000 bytes} (each comes back through its port, into its ring, which fills,
/// so its port holds the rest back), sends :ok to `from` and reads nothing until SIGUSR1.
/// Then it reads the `count` terms and answers {:ok, n}, n being how many came in order.
/// With `hammer`, it signals its wake eventfd without end while it does not read, as if it
/// freed room again and again.
[[noreturn]] void stall(bool hammer) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, nullptr); // first, so that an early SIGUSR1 stays pending
  auto w = sdk::worker::from_env();
  if (w) {
    if (auto m = next_request(*w, 2)) {
      pid from = (*m)[0].as_pid();
      std::int64_t count = (*m)[1].as_integer();
      pid own{w->node(), 1, 1};
      std::string bulk(30'000, 's');
      for (std::int64_t i = 0; i < count; ++i) {
        (void)w->send(own, vigil::make_tuple(term(i), term(bulk)));
      }
      (void)w->send(from, term(atoms::ok));
      const char* env = std::getenv("VIGIL_WAKE_FD");
      int wake = env != nullptr ? std::atoi(env) : -1;
      for (long i = 0; hammer && wake >= 0 && i < 100'000'000; ++i) {
        poke_daemon(wake);
        sigset_t pending;
        if (i % 1024 == 0 && sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1) == 1) {
          break;
        }
      }
      int sig = 0;
      sigwait(&usr1, &sig);
      std::int64_t in_order = 0;
      while (in_order < count) {
        auto d = w->receive(std::chrono::seconds(30));
        if (!d || !*d) {
          break;
        }
        const term& t = (*d)->message;
        if (!t.is_tuple() || t.size() != 2 || !t[0].is_integer() || t[0].as_integer() != in_order) {
          break;
        }
        ++in_order;
      }
      (void)w->send(from, vigil::make_tuple(atoms::ok, term(in_order)));
    }
  }
  sleep_forever();
}

/// Prints `count` lines of 16 KiB (the longest line the reactor keeps whole) that end in
/// "read", then one saying "ready at last".
void long_lines(long count) {
  std::string line(16 * 1024 - 5, 'a');
  line += "read\n";
  for (long i = 0; i < count; ++i) {
    (void)!write(1, line.data(), line.size());
  }
  std::printf("ready at last\n");
}

/// restart_child's protocol: "PID NS\n" to the FIFO, then sleep.
[[noreturn]] void stamp(const char* fifo) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[64];
  int len = std::snprintf(line, sizeof line, "%d %lld\n", getpid(),
                          static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec);
  int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    (void)!write(fd, line, static_cast<std::size_t>(len));
    close(fd);
  }
  sleep_forever();
}

} // namespace

int main(int argc, char** argv) {
  std::string_view mode = argc > 1 ? argv[1] : "";
  const char* arg = argc > 2 ? argv[2] : "";
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (mode == "exit") {
    return std::atoi(arg);
  }
  if (mode == "signal") {
    signal(std::atoi(arg), SIG_DFL);
    raise(std::atoi(arg));
    return 0;
  }
  if (mode == "env") {
    const char* v = std::getenv(arg);
    std::printf("env %s=%s\n", arg, v != nullptr ? v : "(unset)");
  } else if (mode == "fds") {
    print_fds();
  } else if (mode == "ids") {
    print_ids();
  } else if (mode == "proc") {
    print_process();
  } else if (mode == "grandchild") {
    grandchild(arg);
  } else if (mode == "lines") {
    for (long i = 0; i < std::atol(arg); ++i) {
      std::printf("line %ld\n", i);
    }
    std::fprintf(stderr, "done on stderr\n");
  } else if (mode == "garbage") {
    garbage(std::atol(arg));
  } else if (mode == "ignore-term") {
    signal(SIGTERM, SIG_IGN);
    std::printf("ignoring SIGTERM\n");
  } else if (mode == "storm-echo") {
    return storm_echo();
  } else if (mode == "ring-garbage") {
    ring_garbage();
  } else if (mode == "unknown-atom") {
    unknown_atom();
  } else if (mode == "flood") {
    flood();
  } else if (mode == "wake-flood") {
    wake_flood();
  } else if (mode == "silent-then-exit") {
    return silent_then_exit();
  } else if (mode == "stamp") {
    stamp(arg);
  } else if (mode == "sdk-ready") {
    sdk_ready();
  } else if (mode == "forged-ready") {
    forged_ready(arg);
  } else if (mode == "launder") {
    launder(arg);
  } else if (mode == "forge-port") {
    forge_port(arg);
  } else if (mode == "reflect") {
    reflect();
  } else if (mode == "forge-reply") {
    forge_reply();
  } else if (mode == "answer-calls") {
    answer_calls();
  } else if (mode == "hoard") {
    hoard();
  } else if (mode == "stall") {
    stall(std::string_view(arg) == "hammer");
  } else if (mode == "long-lines") {
    long_lines(std::atol(arg));
  } else if (mode == "quit-on-term") {
    std::printf("ready\n");
  } else {
    std::fprintf(stderr, "unknown mode\n");
    return 2;
  }
  if (argc > 3 && std::string_view(argv[3]) == "then-exit") {
    return 0;
  }
  sleep_forever();
}
