// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/atom.hpp"
#include "vigil/term/block_pool.hpp"

#include <atomic>
#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace vigil {

/// A process identifier, printed `#PID<node.index.serial>`.
///
/// `node` 0 is the local daemon; other nodes name OS-process workers that the daemon routes
/// to. `index` names a process slot and `serial` its generation, so a pid whose process has
/// died never reaches a later process that reuses the slot (semantics 2).
struct pid {
  std::uint32_t node = 0;
  std::uint32_t index = 0;
  std::uint32_t serial = 0;

  friend constexpr bool operator==(const pid&, const pid&) noexcept = default;
  friend constexpr auto operator<=>(const pid&, const pid&) noexcept = default;
};

/// A unique reference (`make_ref`), printed `#Reference<node.a.b.c>`. `node` is 24 bits wide.
struct reference {
  static constexpr std::uint32_t max_node = (1U << 24) - 1;
  std::uint32_t node = 0;
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint32_t c = 0;

  friend constexpr bool operator==(const reference&, const reference&) noexcept = default;
  friend constexpr auto operator<=>(const reference&, const reference&) noexcept = default;
};

/// The kinds of term, in Erlang's term order: number < atom < reference < pid < tuple < map
/// < list < binary. Integers and floats are both numbers and compare by value.
enum class term_kind : std::uint8_t {
  integer,
  floating,
  atom,
  reference,
  pid,
  tuple,
  map,
  list,
  string,
};

class term;

namespace detail {

/// The shared part of a long string or a non-empty container: a reference count, a size
/// (bytes of a string; elements of a tuple or list; entries of a map) and the data after it.
/// A map stores its keys and values interleaved, sorted by key. Here rather than in term.cpp
/// so that make_tuple can build one inline.
struct heap_block {
  std::atomic<std::uint32_t> refs;
  std::uint32_t size;

  term* terms() noexcept { return reinterpret_cast<term*>(this + 1); }

  char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
};

} // namespace detail

/// Vigil's one message type: an immutable Erlang term.
///
/// A term is 16 bytes. Atoms, integers, floats, pids, references, strings of up to 14 bytes
/// and empty tuples, lists and maps live inside it and never allocate. Longer strings and
/// non-empty containers live in one reference-counted heap block that copies share, so
/// copying a term (or sending it to a process in the same daemon) is at most one atomic
/// increment. Terms may be shared freely between threads.
///
/// Integers are signed 64-bit, with no bignums: the text parser and the binary decoder
/// reject a literal outside [-2^63, 2^63-1] instead of wrapping it.
///
/// Equality is exact (Erlang's `=:=`): `1` and `1.0` are different terms, and floats are
/// equal when their bits are. `compare` is Erlang's total term order, in which `1 < 1.5`
/// and, to stay consistent with equality, `1` sorts just before `1.0`.
///
/// Destroying a term never recurses, however deeply it nests. `compare`, `==`, `hash`,
/// `heap_bytes` and printing do recurse, a few stack frames per level of nesting, so a
/// term nested tens of thousands deep can overflow a thread's stack there. The decoders bound
/// what outside input can build: `parse_term` and `ipc::decode` reject nesting past their
/// `max_depth` limits.
class term {
public:
  /// The longest string stored inline, without allocating.
  static constexpr std::size_t inline_string_max = 14;

  /// The atom `nil`.
  term() noexcept = default;

  term(atom a) noexcept { // NOLINT(*-explicit-*): atoms are terms
    set_words(tag_atom, a.id());
  }

  template <class Int>
  requires(std::is_integral_v<Int> && !std::is_same_v<Int, bool> && !std::is_same_v<Int, char>)
      term(Int value)
  noexcept // NOLINT(*-explicit-*)
      : term(int_tag{}, static_cast<std::int64_t>(value)) {
    static_assert(sizeof(Int) < 8 || std::is_signed_v<Int>,
                  "a 64-bit unsigned value may not fit a term's signed integer");
  }

  term(bool value) noexcept : term(value ? atoms::true_ : atoms::false_) {} // NOLINT

  term(double value) noexcept; // NOLINT

  term(pid p) noexcept { // NOLINT
    // Bytes 4-7 node, 8-11 index, 12-15 serial (little-endian words, see set_words).
    set_words(tag_pid | (std::uint64_t{p.node} << 32), p.index | (std::uint64_t{p.serial} << 32));
  }

  term(reference r) noexcept;  // NOLINT
  term(std::string_view text); // NOLINT

  term(const char* text) : term(std::string_view(text)) {} // NOLINT

  term(const std::string& text) : term(std::string_view(text)) {} // NOLINT

  /// A tuple of `elements`: `term::tuple({pid, atoms::ok})` is `{pid, :ok}`.
  static term tuple(std::initializer_list<term> elements);
  static term tuple(std::span<const term> elements);
  /// A list of `elements`, in order.
  static term list(std::initializer_list<term> elements);
  static term list(std::span<const term> elements);
  /// A map; keys are sorted in term order and a repeated key keeps its last value.
  static term map(std::initializer_list<std::pair<term, term>> entries);
  static term map(std::span<const std::pair<term, term>> entries);

  // Copies and destruction are inline for scalars and touch the heap only for shared
  // blocks: receive, send and pattern binds copy terms on every message.
  term(const term& other) noexcept {
    copy_raw(other);
    if (shares_block()) {
      retain();
    }
  }

  term(term&& other) noexcept {
    copy_raw(other);
    other.clear_raw();
  }

  term& operator=(const term& other) noexcept;

  term& operator=(term&& other) noexcept {
    if (this != &other) {
      if (shares_block()) {
        release();
      }
      copy_raw(other);
      other.clear_raw();
    }
    return *this;
  }

  ~term() {
    if (shares_block()) {
      release();
    }
  }

  [[nodiscard]] term_kind kind() const noexcept;

  [[nodiscard]] bool is_atom() const noexcept { return raw_[0] == tag_atom; }

  [[nodiscard]] bool is_integer() const noexcept { return raw_[0] == tag_integer; }

  [[nodiscard]] bool is_float() const noexcept { return kind() == term_kind::floating; }

  [[nodiscard]] bool is_string() const noexcept { return kind() == term_kind::string; }

  [[nodiscard]] bool is_pid() const noexcept { return raw_[0] == tag_pid; }

  [[nodiscard]] bool is_reference() const noexcept { return kind() == term_kind::reference; }

  [[nodiscard]] bool is_tuple() const noexcept { return raw_[0] == tag_tuple; }

  [[nodiscard]] bool is_list() const noexcept { return kind() == term_kind::list; }

  [[nodiscard]] bool is_map() const noexcept { return kind() == term_kind::map; }

  /// True for the atom `a`: `msg.is(atoms::ok)`.
  [[nodiscard]] bool is(atom a) const noexcept {
    return raw_[0] == tag_atom && payload() == a.id();
  }

  // Accessors. Each requires the matching kind and aborts otherwise.
  [[nodiscard]] atom as_atom() const noexcept;

  [[nodiscard]] std::int64_t as_integer() const noexcept {
    if (raw_[0] != tag_integer) [[unlikely]] {
      wrong_kind();
    }
    return static_cast<std::int64_t>(payload());
  }

  [[nodiscard]] double as_float() const noexcept;

  [[nodiscard]] pid as_pid() const noexcept {
    if (raw_[0] != tag_pid) [[unlikely]] {
      wrong_kind();
    }
    pid p;
    __builtin_memcpy(&p.node, raw_ + 4, 4);
    __builtin_memcpy(&p.index, raw_ + 8, 4);
    __builtin_memcpy(&p.serial, raw_ + 12, 4);
    return p;
  }

  [[nodiscard]] reference as_reference() const noexcept;
  /// The bytes of a string; valid while this term (or a copy) lives.
  [[nodiscard]] std::string_view as_string() const noexcept;

  /// Elements of a tuple or list (empty for other kinds); valid while this term lives.
  [[nodiscard]] std::span<const term> elements() const noexcept;

  /// Elements of a tuple or list, entries of a map, bytes of a string; 0 otherwise.
  [[nodiscard]] std::size_t size() const noexcept {
    if (raw_[0] == tag_tuple || raw_[0] == tag_list) {
      return container_size();
    }
    return size_of_other();
  }

  /// Element `i` of a tuple or list; `i` must be below `size()`.
  [[nodiscard]] const term& operator[](std::size_t i) const noexcept {
    // Inline for a tuple or list, as every receive reads its message's elements.
    if ((raw_[0] == tag_tuple || raw_[0] == tag_list) && i < container_size()) [[likely]] {
      return container_data()[i];
    }
    return element_out_of_range();
  }

  /// Key and value of map entry `i` (in key order); `i` must be below `size()`.
  [[nodiscard]] const term& map_key(std::size_t i) const noexcept;
  [[nodiscard]] const term& map_value(std::size_t i) const noexcept;
  /// The value under `key` in a map, or nullptr (also for non-maps). O(log n).
  [[nodiscard]] const term* find(const term& key) const noexcept;

  /// Bytes this term owns on the heap, counted once per block it references, without
  /// sharing taken into account (what `info` reports as a message's memory).
  [[nodiscard]] std::size_t heap_bytes() const noexcept;

  /// Erlang's total order: negative, zero or positive.
  friend int compare(const term& a, const term& b) noexcept;
  friend bool operator==(const term& a, const term& b) noexcept;

  friend std::strong_ordering operator<=>(const term& a, const term& b) noexcept {
    return compare(a, b) <=> 0;
  }

  /// A hash consistent with `==`.
  [[nodiscard]] std::size_t hash() const noexcept;

  /// A tuple of `elements`, moved in (each left nil): make_tuple's path, which builds most
  /// messages, without a copy and a release per element.
  static term tuple_from(std::span<term> elements);

private:
  template <class... Ts>
  friend term make_tuple(Ts&&... elements);

  /// Makes `result` a tuple of `n` > 0 elements and returns its slots, uninitialised: the
  /// caller constructs every one of them before anything can read `result` or throw.
  static term* tuple_slots(term& result, std::size_t n);

  /// tuple_slots() of a size known when compiling, inline: make_tuple builds nearly every
  /// message, and the call was a tenth of a one-way message's instructions.
  template <std::size_t N>
  static term* tuple_slots(term& result) {
    static_assert(N > 0 && N <= UINT32_MAX / 2);
    void* memory = detail::term_pool::allocate(sizeof(detail::heap_block) + N * sizeof(term));
    auto* block = static_cast<detail::heap_block*>(memory);
    block->refs.store(1, std::memory_order_relaxed);
    block->size = N;
    result.set_words(tag_tuple, reinterpret_cast<std::uintptr_t>(block));
    return block->terms();
  }

  struct int_tag {};

  // The internal tags (byte 0) that the inline members test; term.cpp has them all.
  static constexpr unsigned char tag_atom = 0;
  static constexpr unsigned char tag_integer = 1;
  static constexpr unsigned char tag_pid = 5;
  static constexpr unsigned char tag_tuple = 7;
  static constexpr unsigned char tag_list = 8;

  term(int_tag /*tag*/, std::int64_t value) noexcept {
    set_words(tag_integer, static_cast<std::uint64_t>(value));
  }

  [[nodiscard]] std::uint64_t payload() const noexcept {
    std::uint64_t v;
    __builtin_memcpy(&v, raw_ + 8, 8);
    return v;
  }

  // A tuple's or list's block (null when empty): a 32-bit count, a 32-bit size, the terms.
  [[nodiscard]] const unsigned char* container_block() const noexcept {
    const unsigned char* b;
    __builtin_memcpy(&b, raw_ + 8, sizeof b);
    return b;
  }

  [[nodiscard]] std::size_t container_size() const noexcept {
    const unsigned char* b = container_block();
    if (b == nullptr) {
      return 0;
    }
    std::uint32_t n;
    __builtin_memcpy(&n, b + 4, 4);
    return n;
  }

  [[nodiscard]] const term* container_data() const noexcept {
    return reinterpret_cast<const term*>(container_block() + 8);
  }

  [[noreturn]] void wrong_kind() const noexcept;
  [[nodiscard]] std::size_t size_of_other() const noexcept;
  [[noreturn]] const term& element_out_of_range() const noexcept;
  static term container(std::uint8_t tag, std::span<const term> elements);

  void retain() const noexcept;
  void release() noexcept;
  /// release() of a shared or nested container, through the dead list.
  void release_chain() noexcept;

  /// Whether the tag is one of a long string or a container (tags 4, 7, 8, 9 of term.cpp),
  /// whose payload may point at a shared block.
  [[nodiscard]] bool shares_block() const noexcept { return raw_[0] == 4 || raw_[0] >= 7; }

  // A term is written with one 16-byte store and copied with one 16-byte load. A load that
  // spans several earlier, smaller stores (a tag byte, then a payload) cannot take its value
  // from the store buffer: it stalls until they reach the cache, and a message paid that
  // several times (building its tuple, sending it, receiving it).
  // Little-endian: word 0 holds bytes 0-7 (the tag in byte 0), word 1 bytes 8-15.
  void set_words(std::uint64_t w0, std::uint64_t w1) noexcept {
    static_assert(std::endian::native == std::endian::little);
    using words = std::uint64_t __attribute__((vector_size(16)));
    words both = {w0, w1};
    __builtin_memcpy(raw_, &both, sizeof raw_);
  }

  void copy_raw(const term& other) noexcept { __builtin_memcpy(raw_, other.raw_, sizeof raw_); }

  void clear_raw() noexcept { __builtin_memset(raw_, 0, sizeof raw_); }

  [[nodiscard]] detail::heap_block* block() const noexcept;

  // Byte 0 is the internal tag. The remaining 15 bytes are tag-specific: a small string's
  // length and bytes; a pid or reference's 32-bit fields; an 8-byte payload at offset 8
  // (integer, float, atom id, heap block pointer).
  alignas(8) unsigned char raw_[16] = {};
};

static_assert(sizeof(term) == 16);

/// Erlang's total term order: negative, zero or positive.
int compare(const term& a, const term& b) noexcept;

/// `term::tuple({...})` spelled variadically: `make_tuple(self, atoms::ok)`.
template <class... Ts>
term make_tuple(Ts&&... elements) {
  if constexpr (sizeof...(Ts) == 0) {
    return term::tuple(std::span<const term>{});
  } else if constexpr ((std::is_nothrow_constructible_v<term, Ts&&> && ...)) {
    // Most messages: each element is built in place in the tuple's block, with one store,
    // instead of in an array that is then moved into the block and destroyed.
    term result;
    term* slot = term::tuple_slots<sizeof...(Ts)>(result);
    ((void)new (slot++) term(std::forward<Ts>(elements)), ...);
    return result;
  } else {
    term parts[] = {term(std::forward<Ts>(elements))...};
    return term::tuple_from(parts);
  }
}

} // namespace vigil

template <>
struct std::hash<vigil::term> {
  std::size_t operator()(const vigil::term& t) const noexcept { return t.hash(); }
};
