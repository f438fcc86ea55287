// SPDX-License-Identifier: Apache-2.0
// "Playing around with Elixir Process" (shared/inspiration/elixir-processes.md), step by
// step, on Vigil's runtime. The main thread plays iex: it is a mailbox process, so it has a
// pid, receives replies and flushes. Each step prints an iex prompt, the result iex would
// show, and, on lines starting with '#', what the step shows.
//
// The output is stable enough for tests/integration/check_walkthrough.sh: wherever iex's
// output would depend on timing, the shell waits (bounded) for the state it describes.
#include "vigil/runtime/runtime.hpp"
#include "vigil/term/pattern.hpp"
#include "vigil/term/text.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using vigil::atoms::ok;
using vigil::atoms::pong;

/// The blog's workers sleep 1 s (10 s and 20 s later on); this demo sleeps this instead.
constexpr vigil::timeout delay = 200ms;
/// How long the shell waits for something that should take at most a few delays.
constexpr vigil::timeout patience = 5s;

using clock_type = std::chrono::steady_clock;

/// A process body's `{from :: pid, _}` clause.
vigil::pattern request_pattern() {
  return vigil::pattern::tuple(
      {vigil::pattern::bind("from", vigil::type_test::pid), vigil::pattern::any()});
}

// -- the processes of the blog ----------------------------------------------------------------

/// spawn(fn -> IO.puts "im alive" end)
vigil::task<> im_alive(vigil::context& /*self*/) {
  fmt::print("im alive\n");
  std::fflush(stdout);
  co_return;
}

/// ElixirTest.BasicWorker.loop/0: answers every {from, _} with {:ok, :pong}, after
/// `work` of simulated heavy work (the blog's :timer.sleep).
vigil::task<> basic_worker(vigil::context& self, vigil::timeout work) {
  const vigil::pattern request = request_pattern();
  for (;;) {
    auto m = co_await self.receive(request);
    if (work > vigil::timeout::zero()) {
      co_await self.sleep(work);
    }
    self.send(m[0].as_pid(), vigil::make_tuple(ok, pong));
  }
}

/// ElixirTest.BasicWorker.execute/1: one request's work, then the reply.
vigil::task<> execute(vigil::context& self, vigil::pid sender, vigil::timeout work) {
  co_await self.sleep(work);
  self.send(sender, vigil::make_tuple(ok, pong));
}

/// ElixirTest.BasicServer.loop/0: a worker per request, so requests run in parallel.
vigil::task<> basic_server(vigil::context& self, vigil::timeout work) {
  const vigil::pattern request = request_pattern();
  for (;;) {
    auto m = co_await self.receive(request);
    self.spawn(execute, m[0].as_pid(), work);
  }
}

// -- the shell --------------------------------------------------------------------------------

/// The iex side: prompts, results, and the shell's own mailbox.
class shell {
public:
  explicit shell(vigil::runtime& rt) : rt_(rt), box_(rt.make_mailbox()) {}

  [[nodiscard]] vigil::pid self() const { return box_->self(); }

  /// Prints `iex(n)> input`.
  void prompt(const std::string& input) { fmt::print("iex({})> {}\n", ++line_, input); }

  /// Prints what iex prints for a value.
  static void show(const vigil::term& value) { fmt::print("{}\n", vigil::to_string(value)); }

  /// A comment on what the step shows.
  static void note(const std::string& text) { fmt::print("# {}\n", text); }

  /// `send(to, message)`, typed as `input` (the message's text if empty): prints the
  /// message, which is what send returns.
  void send(vigil::pid to, const vigil::term& message, std::string_view input = {}) {
    prompt(fmt::format("send({}, {})", name_of(to),
                       input.empty() ? vigil::to_string(message) : std::string(input)));
    box_->ctx().send(to, message);
    show(message);
  }

  /// `flush`: prints and removes every queued message. With `expect`, first waits (up to
  /// `patience`) until that many messages have arrived, as a person at the prompt would.
  void flush(std::size_t expect = 0) {
    prompt("flush");
    std::vector<vigil::term> got;
    auto deadline = clock_type::now() + patience;
    while (got.size() < expect && clock_type::now() < deadline) {
      auto r = box_->receive(std::chrono::ceil<vigil::timeout>(deadline - clock_type::now()));
      if (r) {
        got.push_back(std::move(r.message));
      }
    }
    for (auto& m : box_->flush()) {
      got.push_back(std::move(m));
    }
    for (const auto& m : got) {
      show(m);
    }
    show(ok);
  }

  /// `Process.alive?(pid)`.
  void alive(vigil::pid p, const char* name) {
    prompt(fmt::format("Process.alive? {}", name));
    show(rt_.alive(p));
  }

  /// Waits until `p` has died, through a monitor, and consumes the DOWN.
  void await_death(vigil::pid p) {
    auto ref = box_->ctx().monitor(p);
    auto down = vigil::pattern::tuple({vigil::atoms::down, vigil::term(ref), vigil::pattern::any(),
                                       vigil::pattern::any(), vigil::pattern::any()});
    (void)box_->receive(down, patience);
  }

  /// `Process.info(pid)`, printed one key per line as iex wraps it.
  void info(const char* name, const std::optional<vigil::process_info>& answer) {
    prompt(fmt::format("Process.info({})", name));
    if (!answer) {
      show(vigil::atoms::nil);
      return;
    }
    // A keyword list: [key: value, ...], one pair per line.
    vigil::term list = answer->to_term();
    std::string out = "[";
    for (std::size_t i = 0; i < list.size(); ++i) {
      const vigil::term& pair = list[i];
      out += fmt::format("{}{}: {}", i == 0 ? "" : ",\n ", pair[0].as_atom().name(),
                         vigil::to_string(pair[1]));
    }
    fmt::print("{}]\n", out);
  }

  /// Names pids the way the blog's variables do.
  void name(vigil::pid p, std::string as) { names_.emplace_back(p, std::move(as)); }

  vigil::runtime& rt() { return rt_; }

private:
  [[nodiscard]] std::string name_of(vigil::pid p) const {
    if (p == self()) {
      return "self";
    }
    for (const auto& [who, as] : names_) {
      if (who == p) {
        return as;
      }
    }
    return vigil::to_string(p);
  }

  vigil::runtime& rt_;
  std::unique_ptr<vigil::mailbox> box_;
  std::vector<std::pair<vigil::pid, std::string>> names_;
  int line_ = 0;
};

/// Polls `Process.info(p)` until `ready` holds (bounded by `patience`); returns the last
/// answer.
template <class Ready>
std::optional<vigil::process_info> info_when(vigil::runtime& rt, vigil::pid p, Ready ready) {
  auto deadline = clock_type::now() + patience;
  auto info = rt.info(p);
  while (info && !ready(*info) && clock_type::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    info = rt.info(p);
  }
  return info;
}

vigil::spawn_options with_initial_call(const char* initial_call) {
  vigil::spawn_options o;
  o.initial_call = initial_call;
  return o;
}

// -- the steps --------------------------------------------------------------------------------

void create_a_process(shell& sh) {
  fmt::print("\n## Create a process\n");
  sh.prompt("pid = spawn(fn -> IO.puts \"im alive\" end)");
  vigil::pid p = sh.rt().spawn(im_alive);
  sh.await_death(p);
  shell::show(p);
  sh.alive(p, "pid");
  shell::note("the process printed, returned, and is gone");
}

void send_to_self(shell& sh) {
  fmt::print("\n## How to send messages\n");
  sh.prompt("self");
  shell::show(sh.self());
  sh.send(sh.self(), "hello");
  sh.flush(1);
}

vigil::pid spawn_worker(shell& sh, vigil::timeout work) {
  sh.prompt("pid = spawn(ElixirTest.BasicWorker, :loop, [])");
  auto p =
      sh.rt().spawn_opt(with_initial_call("ElixirTest.BasicWorker.loop/0"), basic_worker, work);
  shell::show(p ? vigil::term(*p) : vigil::term(vigil::atoms::error));
  sh.name(p ? *p : vigil::pid{}, "pid");
  return p ? *p : vigil::pid{};
}

void echo_worker(shell& sh) {
  fmt::print("\n## Receiving messages\n");
  vigil::pid p = spawn_worker(sh, vigil::timeout::zero());
  sh.send(p, vigil::make_tuple(sh.self(), ok), "{self, :ok}");
  sh.flush(1);
  sh.send(p, vigil::make_tuple(sh.self(), ok), "{self, :ok}");
  sh.send(p, vigil::make_tuple(sh.self(), ok), "{self, :ok}");
  sh.flush(2);
  sh.rt().exit(p, vigil::atoms::kill);
}

vigil::pid slow_worker(shell& sh) {
  fmt::print("\n## What about async?\n");
  shell::note(fmt::format("the worker sleeps {} ms per request (the blog's 1000 ms, scaled down)",
                          delay.count()));
  vigil::pid p = spawn_worker(sh, delay);
  sh.send(p, vigil::make_tuple(sh.self(), ok), "{self, :ok}");
  sh.flush();
  shell::note("send returned at once; the reply is not there yet");
  sh.flush(1);

  shell::note("five more requests: one is being worked on, four wait");
  for (int i = 0; i < 5; ++i) {
    sh.send(p, vigil::make_tuple(sh.self(), vigil::atoms::ping), "{self, :ping}");
  }
  auto info =
      info_when(sh.rt(), p, [](const vigil::process_info& i) { return i.message_queue_len == 4; });
  sh.info("pid", info);
  return p;
}

void kill_it(shell& sh, vigil::pid p) {
  fmt::print("\n## Sending messages to a dead process\n");
  sh.prompt("Process.exit(pid, :kill)");
  sh.rt().exit(p, vigil::atoms::kill);
  sh.await_death(p);
  shell::show(true);
  sh.alive(p, "pid");
  sh.send(p, vigil::make_tuple(sh.self(), ok), "{self, :ok}");
  sh.flush();
  shell::note("nothing came back: the worker died before finishing its first request");
}

void info_of_fresh_worker(shell& sh) {
  fmt::print("\n## What do we know about our process?\n");
  vigil::pid p = spawn_worker(sh, delay);
  sh.prompt("self");
  shell::show(sh.self());
  auto info = info_when(sh.rt(), p,
                        [](const vigil::process_info& i) { return !i.current_function.empty(); });
  sh.info("pid", info);
  sh.rt().exit(p, vigil::atoms::kill);
}

void parallel_dispatcher(shell& sh) {
  fmt::print("\n## Parallel processes\n");
  sh.prompt("server_pid = spawn(ElixirTest.BasicServer, :loop, [])");
  auto server =
      sh.rt().spawn_opt(with_initial_call("ElixirTest.BasicServer.loop/0"), basic_server, delay);
  vigil::pid sp = server ? *server : vigil::pid{};
  shell::show(sp);
  sh.name(sp, "server_pid");

  auto start = clock_type::now();
  for (int i = 0; i < 4; ++i) {
    sh.send(sp, vigil::make_tuple(sh.self(), vigil::atoms::ping), "{self, :ping}");
  }
  auto info =
      info_when(sh.rt(), sp, [](const vigil::process_info& i) { return i.message_queue_len == 0; });
  sh.info("server_pid", info);
  sh.flush();
  shell::note("no replies yet: each request has its own worker, all sleeping at once");
  sh.flush(4);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
  shell::note(fmt::format("elapsed: {} ms for 4 requests (one delay: {} ms; one at a time: {} ms)",
                          elapsed.count(), delay.count(), 4 * delay.count()));
  sh.rt().exit(sp, vigil::atoms::kill);
}

} // namespace

int main() {
  vigil::runtime rt({.schedulers = 2});
  {
    shell sh(rt);
    create_a_process(sh);
    send_to_self(sh);
    echo_worker(sh);
    vigil::pid slow = slow_worker(sh);
    kill_it(sh, slow);
    info_of_fresh_worker(sh);
    parallel_dispatcher(sh);
  }
  rt.shutdown();
  std::fflush(stdout);
  return 0;
}
