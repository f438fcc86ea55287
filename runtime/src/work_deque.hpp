// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace vigil::detail {

/// The Chase-Lev work-stealing deque (Lê, Pop, Cohen, Zappa Nardelli, PPoPP 2013), with
/// seq_cst operations in place of standalone fences so that ThreadSanitizer can follow it.
///
/// The owner pushes and pops at the bottom (LIFO: a process woken or spawned by the running
/// one runs next, on a warm cache, and skynet's tree stays shallow). Thieves take from the
/// top in O(1), whatever the deque's length.
template <class T>
class work_deque {
public:
  explicit work_deque(std::size_t capacity = 1024) : ring_(new ring(capacity)) {
    array_.store(ring_.get(), std::memory_order_relaxed);
  }

  /// Owner only.
  void push(T* item) {
    std::int64_t b = bottom_.load(std::memory_order_relaxed);
    std::int64_t t = top_.load(std::memory_order_acquire);
    ring* a = array_.load(std::memory_order_relaxed);
    if (b - t > static_cast<std::int64_t>(a->capacity) - 1) {
      a = grow(a, t, b);
    }
    a->put(b, item);
    bottom_.store(b + 1, std::memory_order_seq_cst);
  }

  /// Owner only. Null when empty.
  T* pop() {
    std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    ring* a = array_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    if (t > b) {
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    T* item = a->get(b);
    if (t == b) {
      // The last item: race the thieves for it.
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
        item = nullptr;
      }
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return item;
  }

  /// Any thread. Null when empty or when it lost a race (the caller may retry elsewhere).
  T* steal() {
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    std::int64_t b = bottom_.load(std::memory_order_seq_cst);
    if (t >= b) {
      return nullptr;
    }
    ring* a = array_.load(std::memory_order_acquire);
    T* item = a->get(t);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return nullptr;
    }
    return item;
  }

  /// Approximate: exact only when called by the owner with no thief active.
  [[nodiscard]] std::size_t size() const noexcept {
    std::int64_t b = bottom_.load(std::memory_order_relaxed);
    std::int64_t t = top_.load(std::memory_order_relaxed);
    return b > t ? static_cast<std::size_t>(b - t) : 0;
  }

  /// size(), ordered with the caller's other seq_cst operations (the sleep protocol).
  [[nodiscard]] std::size_t size_seq_cst() const noexcept {
    std::int64_t b = bottom_.load(std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    return b > t ? static_cast<std::size_t>(b - t) : 0;
  }

private:
  struct ring {
    explicit ring(std::size_t cap)
        : capacity(cap), mask(cap - 1), slots(new std::atomic<T*>[cap]) {}

    std::size_t capacity;
    std::size_t mask;
    std::unique_ptr<std::atomic<T*>[]> slots;

    void put(std::int64_t i, T* item) noexcept {
      slots[static_cast<std::size_t>(i) & mask].store(item, std::memory_order_relaxed);
    }

    T* get(std::int64_t i) const noexcept {
      return slots[static_cast<std::size_t>(i) & mask].load(std::memory_order_relaxed);
    }
  };

  // Old rings stay alive until the deque dies: a thief may still be reading one.
  ring* grow(ring* old, std::int64_t t, std::int64_t b) {
    auto bigger = std::make_unique<ring>(old->capacity * 2);
    for (std::int64_t i = t; i < b; ++i) {
      bigger->put(i, old->get(i));
    }
    ring* fresh = bigger.get();
    retired_.push_back(std::move(ring_));
    ring_ = std::move(bigger);
    array_.store(fresh, std::memory_order_release);
    return fresh;
  }

  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  std::atomic<ring*> array_{nullptr};
  std::unique_ptr<ring> ring_;
  std::vector<std::unique_ptr<ring>> retired_;
};

} // namespace vigil::detail
