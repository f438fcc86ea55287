// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/assert.hpp"
#include "vigil/common/error.hpp"

#include <utility>
#include <variant>

namespace vigil {

/// The subset of C++23's `std::expected` that Vigil uses; libstdc++ 12 lacks it in C++20
/// mode. Recoverable failures are values: our code does not throw.
template <class T, class E = error>
class [[nodiscard]] result {
public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {} // NOLINT(*-explicit-*)

  result(E failure) : state_(std::in_place_index<1>, std::move(failure)) {} // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }

  explicit operator bool() const noexcept { return has_value(); }

  [[nodiscard]] T& value() & {
    VIGIL_ASSERT(has_value());
    return std::get<0>(state_);
  }

  [[nodiscard]] const T& value() const& {
    VIGIL_ASSERT(has_value());
    return std::get<0>(state_);
  }

  [[nodiscard]] T&& value() && {
    VIGIL_ASSERT(has_value());
    return std::get<0>(std::move(state_));
  }

  [[nodiscard]] const E& error() const& {
    VIGIL_ASSERT(!has_value());
    return std::get<1>(state_);
  }

  T* operator->() { return &value(); }

  const T* operator->() const { return &value(); }

  T& operator*() & { return value(); }

  const T& operator*() const& { return value(); }

private:
  std::variant<T, E> state_;
};

/// `result<void>`: success carries nothing.
template <class E>
class [[nodiscard]] result<void, E> {
public:
  result() = default;

  result(E failure) : failure_(std::move(failure)), failed_(true) {} // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return !failed_; }

  explicit operator bool() const noexcept { return has_value(); }

  [[nodiscard]] const E& error() const& {
    VIGIL_ASSERT(failed_);
    return failure_;
  }

private:
  E failure_{};
  bool failed_ = false;
};

} // namespace vigil
