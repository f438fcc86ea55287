// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/runtime/context.hpp"
#include "vigil/term/term.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::workers {

/// Starts one worker of a kind from inside its supervisor: spawns it linked to `supervisor`
/// and returns its pid. `args` is the child's argument map from the config (`%{delay: 200}`);
/// a bad argument is an error naming it, not a crash.
using kind_start = std::function<result<pid>(context& supervisor, const term& args)>;

/// A worker kind: what `kind = "echo"` in a config names.
struct kind {
  std::string name;
  /// One line for `vigilctl` and the docs.
  std::string doc;
  kind_start start;
};

/// The kinds a daemon knows: the built-in ones and those that plugins register. Filled at
/// start-up, before any supervisor runs, and read-only afterwards.
class kind_registry {
public:
  /// Adds `k`; a name that is already taken is an error.
  result<void> add(kind k);
  [[nodiscard]] const kind* find(std::string_view name) const noexcept;
  [[nodiscard]] std::vector<std::string> names() const;

  /// A registry holding the built-in kinds (echo, dispatcher, crasher).
  [[nodiscard]] static kind_registry with_builtins();

private:
  std::map<std::string, kind, std::less<>> kinds_;
};

/// Reads an integer argument (`delay: 200`), or `fallback` when absent. A value of another
/// type is an error naming the argument.
[[nodiscard]] result<std::int64_t> int_arg(const term& args, std::string_view key,
                                           std::int64_t fallback);

} // namespace vigil::workers
