// SPDX-License-Identifier: Apache-2.0
#pragma once

// Term text and targets as clients write them (docs/protocol.md): `self()` stands for the
// session's pid, and a target is a pid, a registered name or a worker's id or path.

#include "vigil/common/result.hpp"
#include "vigil/term/term.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace vigil::protocol {

/// Replaces `self()` and bare `self` in term text with the text of `self`, as Elixir reads
/// them: strings, quoted atoms, `:atoms`, keyword keys (`self: 1`), `#PID<...>` literals,
/// numbers and qualified names (`Mod.self`) are left alone.
[[nodiscard]] std::string substitute_self(std::string_view text, pid self);

/// Parses term text from a client, with `self()` substituted and the protocol's depth limit
/// (64). New atoms take one each from `new_atoms` (the client's budget) when it is given.
/// The error says where parsing stopped, in the text as the client wrote it.
[[nodiscard]] result<term, std::string> parse_client_term(std::string_view text, pid self,
                                                          atom_budget* new_atoms = nullptr);

/// What a `target` or `name` argument designates.
struct target {
  enum class kind : std::uint8_t {
    process,    ///< a pid: `#PID<0.74.0>`, `<0.74.0>`, or `self` for the session
    registered, ///< a registered name written as an atom: `:echo`
    name,       ///< a worker id or path (`echo`, `root/jobs/dispatcher`), else a name
  };
  kind what = kind::name;
  pid process;
  /// For `registered` the atom's name; for `name` the text. Empty for a pid.
  std::string name;
};

/// Parses a target. Paths and ids are letters, digits, `_`, `-` and `.` separated by `/`;
/// anything else that is neither a pid nor an atom is an error.
[[nodiscard]] result<target, std::string> parse_target(std::string_view text, pid self);

/// Splits a path into ids, dropping a leading "root" ("root/jobs/x" and "jobs/x" are both
/// {"jobs", "x"}; "root" alone is {}).
[[nodiscard]] std::vector<std::string> split_path(std::string_view path);

} // namespace vigil::protocol
