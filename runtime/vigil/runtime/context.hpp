// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/runtime/info.hpp"
#include "vigil/runtime/options.hpp"
#include "vigil/runtime/task.hpp"
#include "vigil/term/pattern.hpp"
#include "vigil/term/term.hpp"

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace vigil {

namespace detail {
class runtime_impl;
class process;
struct spawn_request;
} // namespace detail

/// A message taken by `receive`: the message, the index of the clause that matched it and
/// the values that clause's pattern bound, by slot. After a timeout it is empty
/// (`clause == -1`, false in a test).
///
/// Bound values are stored only when a pattern bound some, so a process waiting in a plain
/// receive stays small.
struct received {
  term message;
  int clause = -1;

  [[nodiscard]] bool timed_out() const noexcept { return clause < 0; }

  explicit operator bool() const noexcept { return clause >= 0; }

  /// The value of bind slot `slot` of the matching pattern; nil past the last slot.
  [[nodiscard]] const term& operator[](std::size_t slot) const noexcept;

  /// How many values the matching pattern bound.
  [[nodiscard]] std::size_t bound() const noexcept { return bound_; }

  /// Keeps the first `b.size()` values of `b` (the receive does this on a match).
  void keep(const bindings& b);

private:
  std::unique_ptr<term[]> values_;
  std::size_t bound_ = 0;
};

/// Decides whether a message matches a receive: returns the clause index or -1. A
/// non-owning reference to the caller's callable, valid while the receive is pending.
struct matcher {
  const void* object = nullptr;
  std::size_t count = 0;
  int (*test)(const matcher& self, const term& message, bindings& out) = nullptr;

  int operator()(const term& message, bindings& out) const { return test(*this, message, out); }

  /// Matches any message (clause 0). Inline, as `receive()` is on every message's path.
  static matcher any() noexcept;
  /// Matches no message: a receive with only `after` is a sleep (10).
  static matcher none() noexcept;
  /// Matches `clause`, which must outlive the receive.
  static matcher of(const pattern& clause) noexcept;
  /// Tries `clauses` top to bottom; they must outlive the receive.
  static matcher of(std::span<const pattern> clauses) noexcept;
};

/// The handle a process body gets: `task<> worker(context& self)`. Only the process itself
/// (the body and what it awaits) may use it, from the thread that resumed it.
///
/// Everything here follows `docs/erlang-semantics.md`; the numbers in the comments are
/// its points.
class context {
public:
  context(const context&) = delete;
  context& operator=(const context&) = delete;
  context(context&&) = delete;
  context& operator=(context&&) = delete;

  // -- identity ---------------------------------------------------------------------------

  /// This process's pid.
  [[nodiscard]] pid self() const noexcept { return self_; }

  // -- messages (5-11) --------------------------------------------------------------------

  /// Sends `message` to `to`, asynchronously. A send to a dead pid is a silent no-op (5).
  void send(pid to, term message) const;
  /// Sends to a registered name; an unregistered name is an error the caller sees (5).
  [[nodiscard]] result<void> send(atom name, term message) const;

  class receive_awaiter;

  /// Takes the oldest message, or returns empty after `after` (9, 10).
  [[nodiscard]] receive_awaiter
  receive(timeout after = infinity,
          std::source_location where = std::source_location::current()) noexcept;
  /// Takes the oldest message that matches `clause`; others stay in order (9).
  [[nodiscard]] receive_awaiter
  receive(const pattern& clause, timeout after = infinity,
          std::source_location where = std::source_location::current()) noexcept;
  /// Takes the oldest message that matches any of `clauses`, tried top to bottom.
  [[nodiscard]] receive_awaiter
  receive(std::span<const pattern> clauses, timeout after = infinity,
          std::source_location where = std::source_location::current()) noexcept;

  /// Takes the oldest message for which `accept(message)` is true.
  /// `accept` must outlive the receive (a temporary in the `co_await` expression does).
  template <class Predicate>
  requires std::is_invocable_r_v<bool, Predicate&, const term&>
  [[nodiscard]] receive_awaiter
  receive_if(Predicate&& accept, timeout after = infinity,
             std::source_location where = std::source_location::current()) noexcept;

  /// Waits for `duration` and consumes nothing (10).
  [[nodiscard]] receive_awaiter
  sleep(timeout duration, std::source_location where = std::source_location::current()) noexcept;

  /// Returns and removes every queued message, oldest first (IEx's flush).
  [[nodiscard]] std::vector<term> flush();

  struct yield_awaiter {
    context* self;

    [[nodiscard]] bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> waiting) const noexcept;

    void await_resume() const noexcept {}
  };

  /// Gives the thread to other runnable processes, then continues.
  [[nodiscard]] yield_awaiter yield() noexcept { return {this}; }

  // -- processes (1-4) --------------------------------------------------------------------

  /// Spawns `body(child_context, args...)` and returns its pid at once (1).
  template <class F, class... Args>
  pid spawn(F&& body, Args&&... args);
  template <class F, class... Args>
  pid spawn_link(F&& body, Args&&... args);
  /// Spawns and monitors atomically (3); returns the pid and the monitor's reference.
  template <class F, class... Args>
  std::pair<pid, reference> spawn_monitor(F&& body, Args&&... args);
  template <class F, class... Args>
  [[nodiscard]] result<pid> spawn_opt(const spawn_options& options, F&& body, Args&&... args);

  struct exit_awaiter {
    context* self;
    term reason;

    [[nodiscard]] bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> waiting) noexcept;

    void await_resume() const noexcept {}
  };

  /// Ends this process with `reason` at once: `co_await self.exit(reason);` (4, 16).
  /// Nothing after it runs; the frame is destroyed.
  [[nodiscard]] exit_awaiter exit(term reason) noexcept { return {this, std::move(reason)}; }

  /// Sends an exit signal to `target` (14): `:kill` cannot be trapped and becomes
  /// `:killed`; `:normal` is dropped unless `target` traps exits or is this process.
  void exit(pid target, term reason) const;

  // -- links, monitors, flags (12-19) -----------------------------------------------------

  /// Links to `other` (12). A dead `other` fails with errc::not_found (noproc), unless this
  /// process traps exits: then it gets {:EXIT, other, :noproc} instead.
  result<void> link(pid other);
  void unlink(pid other);
  /// Monitors `target` (17); a dead target yields an immediate DOWN with :noproc.
  reference monitor(pid target);
  /// Monitors the process registered as `name`, resolved once now.
  reference monitor(atom name);
  /// Drops a monitor; with `flush`, also removes its DOWN if already queued.
  void demonitor(reference ref, bool flush = false);
  /// Sets trap_exit and returns the old value (15).
  bool trap_exit(bool on) noexcept;

  /// A reference unique within this runtime.
  [[nodiscard]] reference make_ref() const noexcept;

  /// Runs `work` on the blocking pool, like a BEAM dirty scheduler, and resumes this
  /// process with its result. Use it for anything that would hold a scheduler thread.
  template <class F>
  [[nodiscard]] auto blocking(F work);

  /// The runtime this process lives in: registry, info, spawn from outside.
  [[nodiscard]] class runtime& runtime() const noexcept;

  /// Process.info of this process itself (semantics 20).
  [[nodiscard]] process_info info() const;

  class receive_awaiter {
  public:
    [[nodiscard]] bool await_ready();
    bool await_suspend(std::coroutine_handle<> waiting);

    /// Hands the result over and marks the awaiter empty again: await_ready reads a clause
    /// as "a message was already taken for this receive", so an awaiter awaited a second
    /// time must not look as if it still held one.
    received await_resume() noexcept {
      received out = std::move(result_);
      result_.clause = -1;
      return out;
    }

  private:
    friend class context;
    friend class detail::process;
    friend class detail::runtime_impl;

    /// await_ready() past its fast path: a drain, a pattern, a spent budget, an exit.
    [[gnu::noinline]] bool ready_slow();

    receive_awaiter(context& self, matcher match, timeout after, std::source_location where)
        : self_(&self), match_(match), after_(after), where_(where) {}

    context* self_;
    matcher match_;
    timeout after_;
    std::source_location where_;
    received result_;
  };

protected:
  context() = default;
  ~context() = default;

  /// Type-erased work for the blocking pool; see `blocking`.
  struct blocking_job {
    void* state = nullptr;
    void (*run)(void* state) noexcept = nullptr;
  };

  struct blocking_awaiter_base {
    context* self;

    bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> waiting);
    blocking_job job;
  };

  [[nodiscard]] result<pid> spawn_erased(detail::spawn_request& request);

  pid self_;
  detail::runtime_impl* rt_ = nullptr;
};

namespace detail {
int match_any(const matcher& self, const term& message, bindings& out);
} // namespace detail

inline matcher matcher::any() noexcept {
  return {nullptr, 0, &detail::match_any};
}

inline context::receive_awaiter context::receive(timeout after,
                                                 std::source_location where) noexcept {
  return {*this, matcher::any(), after, where};
}

} // namespace vigil

#include "vigil/runtime/context_inl.hpp"
