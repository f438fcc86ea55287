// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/runtime/context.hpp"
#include "vigil/term/term.hpp"

#include <chrono>
#include <cstdint>
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

/// The type of one argument of a worker kind, as its schema declares it.
enum class arg_type : std::uint8_t {
  integer,  ///< an integer
  duration, ///< a string with units as elsewhere in the config ("2s", "1m30s", "250ms"), or
            ///< an integer of milliseconds; never negative
  string,   ///< a string
  boolean,  ///< true or false
  number,   ///< an integer or a float
  list,     ///< a TOML array
  map,      ///< a TOML table
  any,      ///< anything
};

/// One argument a kind accepts: what `vigild --check-config` checks `args = { ... }` against.
struct arg_spec {
  std::string name;
  arg_type type = arg_type::any;
  /// One line for the docs.
  std::string doc;
  bool required = false;
};

/// Every argument a kind accepts; any other is an error. A kind registered without one
/// (`kind_registry::add(kind)`, as plugins built before schemas did) takes any arguments.
using arg_schema = std::vector<arg_spec>;

/// One problem with a kind's arguments: the argument it concerns (empty for the whole
/// `args` table) and what is wrong, as "expected a duration such as "2s", got "soon"".
struct arg_problem {
  std::string arg;
  std::string message;
  friend bool operator==(const arg_problem&, const arg_problem&) = default;
};

/// The problems with `args` (a map term, as the config decodes `args = { ... }`) for
/// `schema`: an argument the schema does not declare, a value of the wrong type, a required
/// one missing. Empty when `args` is fine. Every kind also takes `name`, a string: the name
/// the child factory registers the process under (supervision/spec_term.hpp).
[[nodiscard]] std::vector<arg_problem> check_args(const arg_schema& schema, const term& args);

/// "a duration", "an integer", ...: how a problem names a type.
[[nodiscard]] std::string_view describe(arg_type type) noexcept;

/// The kinds a daemon knows: the built-in ones and those that plugins register. Filled at
/// start-up, before any supervisor runs, and read-only afterwards.
class kind_registry {
public:
  /// Adds `k`, which takes any arguments; a name that is already taken is an error.
  result<void> add(kind k);
  /// Adds `k` with the arguments it accepts, which `vigild --check-config`, boot and reload
  /// check every child of the kind against (docs/worker-sdk.md).
  result<void> add(kind k, arg_schema args);
  [[nodiscard]] const kind* find(std::string_view name) const noexcept;
  /// The arguments `name` accepts, or nullptr when it declared none (or is unknown).
  [[nodiscard]] const arg_schema* schema(std::string_view name) const noexcept;
  [[nodiscard]] std::vector<std::string> names() const;

  /// A registry holding the built-in kinds (echo, dispatcher, crasher).
  [[nodiscard]] static kind_registry with_builtins();

private:
  std::map<std::string, kind, std::less<>> kinds_;
  std::map<std::string, arg_schema, std::less<>> schemas_;
};

/// Reads an integer argument (`delay: 200`), or `fallback` when absent. A value of another
/// type is an error naming the argument.
[[nodiscard]] result<std::int64_t> int_arg(const term& args, std::string_view key,
                                           std::int64_t fallback);

/// Reads a duration argument, or `fallback` when absent: a string with units as elsewhere in
/// the config (`delay = "2s"`), or an integer of milliseconds (`delay = 2000`). Another type,
/// a string that is not a duration and a negative integer are errors naming the argument.
[[nodiscard]] result<std::chrono::milliseconds> duration_arg(const term& args, std::string_view key,
                                                             std::chrono::milliseconds fallback);

} // namespace vigil::workers
