// SPDX-License-Identifier: Apache-2.0
// The process-wide atom table: the builtin atoms, interning under a limit and per-source
// budgets, lookup by name under a lock, and an atom's name read without one.
#include "vigil/term/atom.hpp"

#include "vigil/common/assert.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace vigil {
namespace {

// Names of the builtin atoms, in the order of atoms::detail::builtin_id.
constexpr std::array<std::string_view, atoms::detail::count_> builtin_names = {
    "nil",     "true",     "false",    "ok",     "error", "undefined", "normal",
    "kill",    "killed",   "shutdown", "noproc", "EXIT",  "DOWN",      "process",
    "timeout", "infinity", "pong",     "ping",   "badarg"};

} // namespace

/// The process-wide table. Ids index fixed-size chunks that are never moved or freed, so
/// `name()` reads without a lock; interning and lookup by name take `mutex_`.
struct atom_table {
  static constexpr std::uint32_t chunk_size = 4096;
  static constexpr std::uint32_t chunk_count = atom::max_atoms / chunk_size;

  std::array<std::atomic<std::string_view*>, chunk_count> chunks{};
  std::atomic<std::uint32_t> size{0};
  std::shared_mutex mutex;
  std::unordered_map<std::string_view, std::uint32_t> by_name;

  atom_table() {
    for (auto name : builtin_names) {
      [[maybe_unused]] auto a = intern(name);
    }
  }

  atom_table(const atom_table&) = delete;
  atom_table& operator=(const atom_table&) = delete;
  atom_table(atom_table&&) = delete;
  atom_table& operator=(atom_table&&) = delete;

  // The table lives until exit; its chunks and names are deliberately never freed, since
  // atoms handed out earlier may be printed during static destruction.
  ~atom_table() = default;

  static atom_table& instance() {
    static auto* table = new atom_table; // NOLINT: intentionally immortal
    return *table;
  }

  std::optional<atom> lookup(std::string_view name) {
    std::shared_lock lock(mutex);
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return std::nullopt;
    }
    return atom(it->second, 0);
  }

  /// Interns `name` unless the table already holds `limit` atoms.
  std::optional<atom> intern(std::string_view name, std::uint32_t limit = atom::max_atoms) {
    if (name.size() > atom::max_length) {
      return std::nullopt;
    }
    if (auto found = lookup(name)) {
      return found;
    }
    std::unique_lock lock(mutex);
    if (auto it = by_name.find(name); it != by_name.end()) {
      return atom(it->second, 0);
    }
    std::uint32_t id = size.load(std::memory_order_relaxed);
    if (id >= limit) {
      return std::nullopt;
    }
    auto& chunk = chunks[id / chunk_size];
    if (chunk.load(std::memory_order_relaxed) == nullptr) {
      chunk.store(new std::string_view[chunk_size], std::memory_order_release); // NOLINT
    }
    auto* stored = new char[name.size() + 1]; // NOLINT: immortal, see ~atom_table
    name.copy(stored, name.size());
    stored[name.size()] = '\0';
    std::string_view owned(stored, name.size());
    chunk.load(std::memory_order_relaxed)[id % chunk_size] = owned;
    by_name.emplace(owned, id);
    size.store(id + 1, std::memory_order_release);
    return atom(id, 0);
  }

  std::string_view name_of(std::uint32_t id) const noexcept {
    VIGIL_ASSERT(id < size.load(std::memory_order_acquire));
    return chunks[id / chunk_size].load(std::memory_order_acquire)[id % chunk_size];
  }
};

atom::atom(std::string_view name) {
  auto interned = atom_table::instance().intern(name);
  VIGIL_ASSERT(interned.has_value());
  id_ = interned->id_;
}

std::optional<atom> atom::try_make(std::string_view name) noexcept {
  try {
    return atom_table::instance().intern(name, max_atoms - reserved_atoms);
  } catch (...) { // allocation failure: report as "cannot intern"
    return std::nullopt;
  }
}

std::optional<atom> atom::try_make(std::string_view name, atom_budget& budget) noexcept {
  if (auto known = find(name)) {
    return known;
  }
  if (name.size() > max_length || !budget.take()) {
    return std::nullopt;
  }
  // Two sources racing to intern the same new name both pay for it: harmless.
  return try_make(name);
}

atom_budget& atom_budget::outside() noexcept {
  static atom_budget total(outside_limit);
  return total;
}

bool atom_budget::take() noexcept {
  std::uint32_t used = used_.load(std::memory_order_relaxed);
  do {
    if (used >= limit_) {
      return false;
    }
  } while (!used_.compare_exchange_weak(used, used + 1, std::memory_order_relaxed));
  if (parent_ != nullptr && !parent_->take()) {
    used_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

std::optional<atom> atom::find(std::string_view name) noexcept {
  try {
    return atom_table::instance().lookup(name);
  } catch (...) {
    return std::nullopt;
  }
}

std::uint32_t atom::count() noexcept {
  return atom_table::instance().size.load(std::memory_order_acquire);
}

std::string_view atom::name() const noexcept {
  return atom_table::instance().name_of(id_);
}

} // namespace vigil
