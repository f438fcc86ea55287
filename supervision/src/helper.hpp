// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/runtime/runtime.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace vigil::supervision::detail {

/// Runs `work(helper_context)`, a coroutine returning result<T>, in a short-lived helper
/// process, and blocks the calling thread until the helper is gone.
///
/// Why a helper: a mailbox can wait for one pattern only, while a call must wait for a
/// reply *or* a DOWN. The helper waits for both; the mailbox waits for the helper's DOWN,
/// which comes after the helper stored its result. A late reply reaches the dead helper,
/// never the mailbox.
template <class T, class Work>
result<T> run_helper(mailbox& caller, Work work) {
  auto out = std::make_shared<std::optional<result<T>>>();
  auto body = [out, work = std::move(work)](context& self) mutable -> task<> {
    auto r = co_await work(self);
    out->emplace(std::move(r));
  };
  auto [helper, ref] = caller.ctx().spawn_monitor(std::move(body));
  if (helper == pid{}) {
    return error{make_error_code(errc::limit_exceeded), "supervisor call: cannot spawn"};
  }
  const auto down = pattern::tuple(
      {atoms::down, term(ref), pattern::any(), pattern::any(), pattern::bind("reason")});
  auto r = caller.receive(down);
  if (!r || !out->has_value()) {
    return error{make_error_code(errc::not_found),
                 "supervisor call: helper process " + std::to_string(helper.index) + " died"};
  }
  return std::move(**out);
}

} // namespace vigil::supervision::detail
