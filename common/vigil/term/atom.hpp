// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vigil {

/// An interned name, compared as an integer (Erlang's atom).
///
/// The atom table is process-wide and append-only: an atom's id and its name stay valid for
/// the life of the program, and lookups of a name by id take no lock. Like the BEAM's, the
/// table is bounded (`max_atoms`), because atoms are never freed: code that interns names it
/// receives from outside (decoders, the control socket) uses `try_make`, which reports a full
/// table instead of aborting.
class atom_budget;

class atom {
public:
  /// The longest atom name, in bytes (Erlang's limit too).
  static constexpr std::size_t max_length = 255;
  /// The most atoms one program may intern (the BEAM default is 1,048,576).
  static constexpr std::uint32_t max_atoms = 1U << 20;
  /// The last atoms of the table, kept for names the program itself chooses: `try_make`
  /// stops this far short of `max_atoms`, so input that fills the table (a control-socket
  /// client sending new atoms) cannot make a later `atom(name)` abort.
  static constexpr std::uint32_t reserved_atoms = 1U << 16;

  constexpr atom() noexcept = default;

  /// Interns `name`. Aborts if the name is longer than `max_length` or the table is full:
  /// use it for names the program itself chose.
  explicit atom(std::string_view name);

  /// Interns `name`, or returns nullopt if it is too long or the table is full (all but
  /// `reserved_atoms` of it).
  [[nodiscard]] static std::optional<atom> try_make(std::string_view name) noexcept;

  /// As `try_make`, for a name from an outside source: an atom that exists is always found,
  /// and a new one also takes one from `budget` (nullopt when it is spent).
  [[nodiscard]] static std::optional<atom> try_make(std::string_view name,
                                                    atom_budget& budget) noexcept;

  /// The atom named `name` if it was interned already; never interns.
  [[nodiscard]] static std::optional<atom> find(std::string_view name) noexcept;

  /// Rebuilds an atom from `id()`; `id` must name an interned atom.
  [[nodiscard]] static constexpr atom from_id(std::uint32_t id) noexcept { return atom(id, 0); }

  /// How many atoms are interned now.
  [[nodiscard]] static std::uint32_t count() noexcept;

  [[nodiscard]] constexpr std::uint32_t id() const noexcept { return id_; }

  [[nodiscard]] std::string_view name() const noexcept;

  friend constexpr bool operator==(atom, atom) noexcept = default;

private:
  friend struct atom_table;

  constexpr explicit atom(std::uint32_t id, int /*tag*/) noexcept : id_(id) {}

  std::uint32_t id_ = 0;
};

/// How many new atoms an outside source (a control-socket user, an OS worker) may still
/// intern. Atoms are never freed, so without a budget one source could fill the table for
/// everyone: each source gets its own, and each draws on its parent too (the daemon's total
/// for all outside input), so that the program's own names (a reload's config keys) always
/// find room. Thread-safe.
class atom_budget {
public:
  explicit atom_budget(std::uint32_t limit, atom_budget* parent = nullptr) noexcept
      : limit_(limit), parent_(parent) {}

  atom_budget(const atom_budget&) = delete;
  atom_budget& operator=(const atom_budget&) = delete;

  /// Takes one new atom; false, taking nothing, when this budget or a parent is spent.
  [[nodiscard]] bool take() noexcept;

  [[nodiscard]] std::uint32_t used() const noexcept { return used_.load(); }

  [[nodiscard]] std::uint32_t limit() const noexcept { return limit_; }

  /// The process-wide total for all outside input, the parent of every source's budget. It
  /// stops well short of `try_make`'s limit, leaving the program room for names of its own
  /// (a reloaded config's keys) after any flood.
  static atom_budget& outside() noexcept;
  static constexpr std::uint32_t outside_limit = atom::max_atoms - 4 * atom::reserved_atoms;

private:
  std::atomic<std::uint32_t> used_{0};
  std::uint32_t limit_;
  atom_budget* parent_;
};

/// The atoms the runtime and the protocols use, interned before `main` at fixed ids.
/// Their order here is their id; `atom.cpp` lists their names in the same order.
namespace atoms {
namespace detail {
enum builtin_id : std::uint32_t {
  nil_id, // id 0: the default atom
  true_id,
  false_id,
  ok_id,
  error_id,
  undefined_id,
  normal_id,
  kill_id,
  killed_id,
  shutdown_id,
  noproc_id,
  exit_id, // EXIT
  down_id, // DOWN
  process_id,
  timeout_id,
  infinity_id,
  pong_id,
  ping_id,
  badarg_id,
  count_
};
} // namespace detail

inline constexpr atom nil = atom::from_id(detail::nil_id);
inline constexpr atom true_ = atom::from_id(detail::true_id);
inline constexpr atom false_ = atom::from_id(detail::false_id);
inline constexpr atom ok = atom::from_id(detail::ok_id);
inline constexpr atom error = atom::from_id(detail::error_id);
inline constexpr atom undefined = atom::from_id(detail::undefined_id);
inline constexpr atom normal = atom::from_id(detail::normal_id);
inline constexpr atom kill = atom::from_id(detail::kill_id);
inline constexpr atom killed = atom::from_id(detail::killed_id);
inline constexpr atom shutdown = atom::from_id(detail::shutdown_id);
inline constexpr atom noproc = atom::from_id(detail::noproc_id);
inline constexpr atom exit = atom::from_id(detail::exit_id);
inline constexpr atom down = atom::from_id(detail::down_id);
inline constexpr atom process = atom::from_id(detail::process_id);
inline constexpr atom timeout = atom::from_id(detail::timeout_id);
inline constexpr atom infinity = atom::from_id(detail::infinity_id);
inline constexpr atom pong = atom::from_id(detail::pong_id);
inline constexpr atom ping = atom::from_id(detail::ping_id);
inline constexpr atom badarg = atom::from_id(detail::badarg_id);

} // namespace atoms

namespace literals {
/// `"ok"_a` is `atom("ok")`.
inline atom operator""_a(const char* text, std::size_t size) {
  return atom(std::string_view(text, size));
}
} // namespace literals

} // namespace vigil
