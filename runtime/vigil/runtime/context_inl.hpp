// SPDX-License-Identifier: Apache-2.0
#pragma once

// Template parts of context.hpp; include context.hpp instead.

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>

namespace vigil {
namespace detail {

/// A spawn, with the body type-erased. The runtime allocates the child's control block and
/// then calls `make` to create the body's (suspended) coroutine, whose frame takes the
/// arguments. A body with state (a lambda with captures) is kept in `keep`, owned by the
/// child until it dies, because its coroutine refers to it.
struct spawn_request {
  spawn_options options;
  bool link = false;
  bool monitor = false;
  reference monitor_ref{};
  void* thunk = nullptr;
  task<> (*make)(void* thunk, void* keep, context& child) = nullptr;
  void* keep = nullptr;
  void (*drop)(void* keep) noexcept = nullptr;
  const char* type_name = nullptr;
};

template <class F, class... Args>
struct spawn_thunk {
  F* body;
  std::tuple<Args&&...> args;

  static task<> make(void* self, void* keep, context& child) {
    auto* t = static_cast<spawn_thunk*>(self);
    F& body = keep != nullptr ? *static_cast<F*>(keep) : *t->body;
    return std::apply(
        [&](auto&&... a) { return std::invoke(body, child, std::forward<decltype(a)>(a)...); },
        std::move(t->args));
  }
};

template <class F, class... Args>
spawn_request make_spawn_request(spawn_thunk<F, Args...>& thunk, F& body) {
  static_assert(std::is_same_v<std::invoke_result_t<F&, context&, Args&&...>, task<>>,
                "a process body is callable as body(context&, args...) and returns task<>");
  spawn_request r;
  r.thunk = &thunk;
  r.make = &spawn_thunk<F, Args...>::make;
  // A stateless callable (a function, a lambda without captures) needs no storage: the
  // coroutine frame holds everything.
  if constexpr (!std::is_empty_v<F> && !std::is_pointer_v<F>) {
    r.keep = new F(std::move(body));
    r.drop = [](void* keep) noexcept { delete static_cast<F*>(keep); };
  }
  return r;
}

/// Runs in the blocking pool: calls the work, stores its result, wakes the process.
template <class F>
struct blocking_state {
  F work;
  using value_type = std::invoke_result_t<F&>;
  std::conditional_t<std::is_void_v<value_type>, bool, std::optional<value_type>> result{};
  std::exception_ptr failure;

  static void run(void* p) noexcept {
    auto* s = static_cast<blocking_state*>(p);
    try {
      if constexpr (std::is_void_v<value_type>) {
        s->work();
        s->result = true;
      } else {
        s->result.emplace(s->work());
      }
    } catch (...) {
      s->failure = std::current_exception();
    }
  }
};

} // namespace detail

template <class Predicate>
requires std::is_invocable_r_v<bool, Predicate&, const term&> context::receive_awaiter
context::receive_if(Predicate&& accept, timeout after, std::source_location where)
noexcept {
  using pred_type = std::remove_reference_t<Predicate>;
  matcher m{&accept, 1, [](const matcher& self, const term& message, bindings& /*out*/) {
              auto* pred = static_cast<pred_type*>(const_cast<void*>(self.object));
              return std::invoke(*pred, message) ? 0 : -1;
            }};
  return receive_awaiter(*this, m, after, where);
}

template <class F, class... Args>
result<pid> context::spawn_opt(const spawn_options& options, F&& body, Args&&... args) {
  using body_type = std::decay_t<F>;
  body_type callable(std::forward<F>(body));
  detail::spawn_thunk<body_type, Args...> thunk{&callable, {std::forward<Args>(args)...}};
  auto request = detail::make_spawn_request(thunk, callable);
  request.options = options;
  request.link = options.link;
  return spawn_erased(request);
}

template <class F, class... Args>
pid context::spawn(F&& body, Args&&... args) {
  auto p = spawn_opt(spawn_options{}, std::forward<F>(body), std::forward<Args>(args)...);
  return p ? *p : pid{};
}

template <class F, class... Args>
pid context::spawn_link(F&& body, Args&&... args) {
  using body_type = std::decay_t<F>;
  body_type callable(std::forward<F>(body));
  detail::spawn_thunk<body_type, Args...> thunk{&callable, {std::forward<Args>(args)...}};
  auto request = detail::make_spawn_request(thunk, callable);
  request.link = true;
  auto p = spawn_erased(request);
  return p ? *p : pid{};
}

template <class F, class... Args>
std::pair<pid, reference> context::spawn_monitor(F&& body, Args&&... args) {
  using body_type = std::decay_t<F>;
  body_type callable(std::forward<F>(body));
  detail::spawn_thunk<body_type, Args...> thunk{&callable, {std::forward<Args>(args)...}};
  auto request = detail::make_spawn_request(thunk, callable);
  request.monitor = true;
  auto p = spawn_erased(request);
  return {p ? *p : pid{}, request.monitor_ref};
}

template <class F>
auto context::blocking(F work) {
  using state_type = detail::blocking_state<F>;
  using value_type = typename state_type::value_type;

  struct awaiter : blocking_awaiter_base {
    state_type state;

    void await_suspend(std::coroutine_handle<> waiting) {
      job = {&state, &state_type::run};
      blocking_awaiter_base::await_suspend(waiting);
    }

    value_type await_resume() {
      if (state.failure) {
        std::rethrow_exception(state.failure);
      }
      if constexpr (!std::is_void_v<value_type>) {
        return std::move(*state.result);
      }
    }
  };

  awaiter a{{this, {}}, {std::move(work)}};
  return a;
}

} // namespace vigil
