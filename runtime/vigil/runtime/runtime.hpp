// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/runtime/context.hpp"
#include "vigil/runtime/info.hpp"
#include "vigil/runtime/options.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace vigil {

class mailbox;

/// Erlang's processes as an embeddable library: scheduler threads with work stealing, a
/// timer thread and a blocking pool, running processes that are C++20 coroutines.
///
/// The functions here may be called from any thread, including threads that are not
/// processes (main, a control socket handler). Destroying the runtime kills every process
/// that is still alive, waits for them to release their resources, and joins its threads.
class runtime {
public:
  explicit runtime(runtime_options options = {});
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;
  runtime(runtime&&) = delete;
  runtime& operator=(runtime&&) = delete;
  ~runtime();

  /// Spawns a process with no parent, as `context::spawn` does.
  template <class F, class... Args>
  pid spawn(F&& body, Args&&... args);
  template <class F, class... Args>
  [[nodiscard]] result<pid> spawn_opt(const spawn_options& options, F&& body, Args&&... args);

  void send(pid to, term message);
  [[nodiscard]] result<void> send(atom name, term message);
  /// Sends an exit signal from no process (the pid of the runtime itself, <0.0.0>).
  void exit(pid target, term reason);

  [[nodiscard]] bool alive(pid p) const noexcept;
  /// Process.info; empty for a dead pid. Waits until the process handles the request (20).
  [[nodiscard]] std::optional<process_info> info(pid p);

  /// Registers `name` for `p` (18). Fails if the name is taken, `p` has a name, or is dead.
  [[nodiscard]] result<void> register_name(atom name, pid p);
  [[nodiscard]] result<void> unregister_name(atom name);
  [[nodiscard]] std::optional<pid> whereis(atom name) const;
  [[nodiscard]] std::vector<atom> registered() const;

  /// A mailbox process owned by the calling thread: a real pid that other processes can
  /// send to, link and monitor, with blocking receive. The shell and tests use it.
  [[nodiscard]] std::unique_ptr<mailbox> make_mailbox();

  /// Processes alive now.
  [[nodiscard]] std::size_t process_count() const noexcept;
  /// Scheduler threads.
  [[nodiscard]] unsigned schedulers() const noexcept;

  /// Kills every process and waits until all are gone. The destructor calls it.
  void shutdown();

  [[nodiscard]] detail::runtime_impl& impl() noexcept { return *impl_; }

private:
  [[nodiscard]] result<pid> spawn_erased(detail::spawn_request& request);

  std::unique_ptr<detail::runtime_impl> impl_;
};

/// A process driven by an ordinary thread instead of a coroutine: `self()` is a real pid,
/// and `receive` blocks the calling thread. Only the thread that made it may use it. It dies
/// when destroyed (reason :normal), or when killed, after which receive returns empty.
class mailbox {
public:
  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;
  mailbox(mailbox&&) = delete;
  mailbox& operator=(mailbox&&) = delete;
  ~mailbox();

  [[nodiscard]] pid self() const noexcept;
  [[nodiscard]] context& ctx() noexcept;

  /// The oldest message matching `clause` (any message without one), waiting up to `after`.
  [[nodiscard]] received receive(timeout after = infinity);
  [[nodiscard]] received receive(const pattern& clause, timeout after = infinity);
  /// The oldest message matching any of `clauses`, tried top to bottom.
  [[nodiscard]] received receive(std::span<const pattern> clauses, timeout after = infinity);
  [[nodiscard]] std::vector<term> flush();
  [[nodiscard]] bool alive() const noexcept;

private:
  friend class runtime;

  explicit mailbox(detail::process& p) noexcept : process_(&p) {}

  received receive_matching(matcher match, timeout after);
  detail::process* process_;
};

template <class F, class... Args>
result<pid> runtime::spawn_opt(const spawn_options& options, F&& body, Args&&... args) {
  using body_type = std::decay_t<F>;
  body_type callable(std::forward<F>(body));
  detail::spawn_thunk<body_type, Args...> thunk{&callable, {std::forward<Args>(args)...}};
  auto request = detail::make_spawn_request(thunk, callable);
  request.options = options;
  return spawn_erased(request);
}

template <class F, class... Args>
pid runtime::spawn(F&& body, Args&&... args) {
  auto p = spawn_opt(spawn_options{}, std::forward<F>(body), std::forward<Args>(args)...);
  return p ? *p : pid{};
}

} // namespace vigil
