// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internals of the shell's translator, shared by shell_parse.cpp and shell_builtins.cpp.

#include "vigil/common/result.hpp"
#include "vigil/ctl/shell_parse.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::ctl::detail {

/// An iex-style error message ("(SyntaxError) 1:3: ..."); a type of its own so that it
/// cannot be mistaken for a string result.
struct failure {
  std::string text;
};

/// `text` without surrounding spaces and tabs.
[[nodiscard]] std::string_view trim(std::string_view text) noexcept;

/// The index of the `)` closing the `(` at `text[0]`, skipping quotes; npos when unclosed.
[[nodiscard]] std::size_t matching_paren(std::string_view text) noexcept;

/// A term argument with variables and `self` replaced, in canonical form. An identifier that
/// Elixir would read as an unbound variable is an error, as in iex.
[[nodiscard]] result<std::string, failure> resolve_term(std::string_view arg,
                                                        const shell_context& ctx);

/// A function the shell knows, by its iex name.
struct builtin {
  std::string_view name;
  std::size_t min_args;
  std::size_t max_args;
  result<shell_action, std::string> (*build)(const std::vector<std::string>& args,
                                             const shell_context& ctx);
};

/// The builtin called `name` (`send`, `Process.alive?`, `:observer.start`), or nullptr.
[[nodiscard]] const builtin* find_builtin(std::string_view name) noexcept;

/// Every builtin's name, in the table's order.
[[nodiscard]] std::vector<std::string> builtin_names_list();

/// `fn` applied to `args`, after checking their number.
[[nodiscard]] result<shell_action, std::string>
call_builtin(const builtin& fn, const std::vector<std::string>& args, const shell_context& ctx);

} // namespace vigil::ctl::detail
