// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

namespace vigil {

namespace detail {

/// Coroutine frames come from per-thread free lists of a few size classes, so that spawning
/// a process reuses warm memory instead of touching fresh pages. Frames larger than the
/// biggest class go to operator new.
void* allocate_frame(std::size_t size);
void deallocate_frame(void* frame, std::size_t size) noexcept;

struct task_promise_base {
  std::coroutine_handle<> continuation;
  std::exception_ptr failure;

  static void* operator new(std::size_t size) { return allocate_frame(size); }

  static void operator delete(void* frame, std::size_t size) noexcept {
    deallocate_frame(frame, size);
  }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct final_awaiter {
    [[nodiscard]] bool await_ready() const noexcept { return false; }

    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> done) noexcept {
      // Symmetric transfer: a finished sub-task resumes its caller on the same stack frame
      // budget; the top-level task of a process returns to the scheduler.
      auto next = done.promise().continuation;
      return next ? next : std::noop_coroutine();
    }

    void await_resume() const noexcept {}
  };

  final_awaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { failure = std::current_exception(); }
};

template <class T>
struct task_promise : task_promise_base {
  std::optional<T> value;

  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct task_promise<void> : task_promise_base {
  void return_void() noexcept {}
};

} // namespace detail

/// A lazily started coroutine: the body of a process (`task<>`) or a step it awaits
/// (`task<int>`). Awaiting a task runs it to completion on the awaiting process and
/// rethrows what it threw. A task owns its frame: destroying the task destroys the frame,
/// which is how a killed process's locals are released.
template <class T = void>
class [[nodiscard]] task {
public:
  struct promise_type : detail::task_promise<T> {
    task get_return_object() noexcept {
      return task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
  };

  task() noexcept = default;
  task(const task&) = delete;
  task& operator=(const task&) = delete;

  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}

  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }

  ~task() { reset(); }

  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(handle_); }

  [[nodiscard]] std::coroutine_handle<promise_type> handle() const noexcept { return handle_; }

  /// Gives up ownership of the frame (the runtime takes it for a process body).
  [[nodiscard]] std::coroutine_handle<promise_type> release() noexcept {
    return std::exchange(handle_, {});
  }

  struct awaiter {
    std::coroutine_handle<promise_type> handle;

    [[nodiscard]] bool await_ready() const noexcept { return false; }

    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      handle.promise().continuation = caller;
      return handle;
    }

    T await_resume() {
      auto& promise = handle.promise();
      if (promise.failure) {
        std::rethrow_exception(promise.failure);
      }
      if constexpr (!std::is_void_v<T>) {
        return std::move(*promise.value);
      }
    }
  };

  awaiter operator co_await() && noexcept { return awaiter{handle_}; }

private:
  explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

  void reset() noexcept {
    if (handle_) {
      handle_.destroy();
      handle_ = {};
    }
  }

  std::coroutine_handle<promise_type> handle_;
};

} // namespace vigil
