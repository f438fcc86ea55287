// SPDX-License-Identifier: Apache-2.0
// term's representation: scalars inline, long strings and containers in reference-counted
// heap blocks. Construction, copying and release (dead containers freed without recursion)
// and access; the total order, equality and hash are in term_order.cpp.
#include "vigil/term/term.hpp"

#include "vigil/common/assert.hpp"
#include "vigil/term/block_pool.hpp"
#include "vigil/term/term_layout.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <vector>

namespace vigil {
namespace detail {

static_assert(sizeof(heap_block) == 8 && alignof(term) == 8);

} // namespace detail

namespace {

using detail::heap_block;

constexpr bool is_heap_tag(std::uint8_t t) noexcept {
  return t >= tag_heap_string && t != tag_pid && t != tag_reference;
}

// Blocks come from the term pool (block_pool.hpp): a message's tuple is built on one thread
// and freed on another for every message sent, and malloc/free were much of that cost.
heap_block* allocate_block(std::size_t payload, std::uint32_t size) {
  void* memory = detail::term_pool::allocate(sizeof(heap_block) + payload);
  auto* block = static_cast<heap_block*>(memory);
  block->refs.store(1, std::memory_order_relaxed);
  block->size = size;
  return block;
}

template <class T>
void store(unsigned char* at, T value) noexcept {
  std::memcpy(at, &value, sizeof(T));
}

// What `term::release` writes over the first slot of a dead container.
struct dead_link {
  heap_block* next;
  std::size_t slots;
};

static_assert(sizeof(dead_link) <= sizeof(term));

} // namespace

// -- construction -------------------------------------------------------------------------

term::term(double value) noexcept {
  set_words(tag_float, std::bit_cast<std::uint64_t>(value));
}

term::term(reference r) noexcept {
  VIGIL_ASSERT(r.node <= reference::max_node);
  raw_[0] = tag_reference;
  raw_[1] = static_cast<unsigned char>(r.node & 0xff);
  raw_[2] = static_cast<unsigned char>((r.node >> 8) & 0xff);
  raw_[3] = static_cast<unsigned char>((r.node >> 16) & 0xff);
  store(raw_ + 4, r.a);
  store(raw_ + 8, r.b);
  store(raw_ + 12, r.c);
}

term::term(std::string_view text) {
  if (text.size() <= inline_string_max) {
    raw_[0] = tag_small_string;
    raw_[1] = static_cast<unsigned char>(text.size());
    if (!text.empty()) {
      std::memcpy(raw_ + 2, text.data(), text.size());
    }
    return;
  }
  VIGIL_ASSERT(text.size() <= UINT32_MAX);
  auto* b = allocate_block(text.size(), static_cast<std::uint32_t>(text.size()));
  std::memcpy(b->bytes(), text.data(), text.size());
  set_words(tag_heap_string, reinterpret_cast<std::uintptr_t>(b));
}

term term::container(std::uint8_t t, std::span<const term> elements) {
  term result;
  if (elements.empty()) {
    result.set_words(t, 0); // a null block is the empty container
    return result;
  }
  VIGIL_ASSERT(elements.size() <= UINT32_MAX / 2);
  auto count = static_cast<std::uint32_t>(t == tag_map ? elements.size() / 2 : elements.size());
  auto* b = allocate_block(elements.size() * sizeof(term), count);
  std::uninitialized_copy(elements.begin(), elements.end(), b->terms());
  result.set_words(t, reinterpret_cast<std::uintptr_t>(b));
  return result;
}

term term::tuple_from(std::span<term> elements) {
  static_assert(term::tag_atom == ::vigil::tag_atom && term::tag_integer == ::vigil::tag_integer
                && term::tag_pid == ::vigil::tag_pid && term::tag_tuple == ::vigil::tag_tuple
                && term::tag_list == ::vigil::tag_list);
  static_assert(offsetof(heap_block, size) == 4 && sizeof(heap_block) == 8,
                "term::container_size() and container_data() in term.hpp read the block so");
  term result;
  if (elements.empty()) {
    result.set_words(tag_tuple, 0);
    return result;
  }
  VIGIL_ASSERT(elements.size() <= UINT32_MAX / 2);
  auto* b =
      allocate_block(elements.size() * sizeof(term), static_cast<std::uint32_t>(elements.size()));
  term* out = b->terms();
  for (term& e : elements) {
    new (out++) term(std::move(e));
  }
  result.set_words(tag_tuple, reinterpret_cast<std::uintptr_t>(b));
  return result;
}

namespace {

// A tuple of n elements takes 8 + 16 n bytes, which is term pool class n - 1 (16-byte
// classes from 32 bytes) while it is pooled: release uses the class directly instead of
// computing it from the size on every message.
constexpr std::size_t pooled_tuple_max = (detail::term_pool::max_pooled_bytes - 8) / sizeof(term);

constexpr std::size_t tuple_class(std::size_t n) noexcept {
  return n - 1;
}

static_assert(tuple_class(1) == detail::term_pool::internal::class_of(8 + sizeof(term))
              && tuple_class(2) == detail::term_pool::internal::class_of(8 + 2 * sizeof(term))
              && tuple_class(pooled_tuple_max)
                     == detail::term_pool::internal::class_of(8 + pooled_tuple_max * sizeof(term))
              && 8 + (pooled_tuple_max + 1) * sizeof(term) > detail::term_pool::max_pooled_bytes);

} // namespace

term* term::tuple_slots(term& result, std::size_t n) {
  VIGIL_ASSERT(n > 0 && n <= UINT32_MAX / 2);
  auto* b = allocate_block(n * sizeof(term), static_cast<std::uint32_t>(n));
  result.set_words(tag_tuple, reinterpret_cast<std::uintptr_t>(b));
  return b->terms();
}

term term::tuple(std::initializer_list<term> elements) {
  return container(tag_tuple, {elements.begin(), elements.size()});
}

term term::tuple(std::span<const term> elements) {
  return container(tag_tuple, elements);
}

term term::list(std::initializer_list<term> elements) {
  return container(tag_list, {elements.begin(), elements.size()});
}

term term::list(std::span<const term> elements) {
  return container(tag_list, elements);
}

term term::map(std::initializer_list<std::pair<term, term>> entries) {
  return map(std::span<const std::pair<term, term>>(entries.begin(), entries.size()));
}

term term::map(std::span<const std::pair<term, term>> entries) {
  std::vector<std::pair<term, term>> sorted(entries.begin(), entries.end());
  // Stable, so that among equal keys the later entry is last; keep that one.
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& x, const auto& y) { return compare(x.first, y.first) < 0; });
  std::vector<term> flat;
  flat.reserve(sorted.size() * 2);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i + 1 < sorted.size() && sorted[i].first == sorted[i + 1].first) {
      continue;
    }
    flat.push_back(std::move(sorted[i].first));
    flat.push_back(std::move(sorted[i].second));
  }
  return container(tag_map, flat);
}

// -- copy and lifetime --------------------------------------------------------------------

heap_block* term::block() const noexcept {
  return is_heap_tag(raw_[0]) ? load<heap_block*>(raw_ + 8) : nullptr;
}

void term::retain() const noexcept {
  if (auto* b = block()) {
    b->refs.fetch_add(1, std::memory_order_relaxed);
  }
}

void term::release() noexcept {
  // Most messages are small tuples of scalars with one owner, freed by their receiver: free
  // such a block at once, in a function small enough to need no saved registers. Everything
  // else (strings, lists, maps, shared or nested tuples) goes through release_chain, which
  // also handles a term that holds no block.
  if (raw_[0] == tag_tuple) {
    auto* own = load<heap_block*>(raw_ + 8);
    if (own == nullptr) {
      return; // the empty tuple
    }
    std::uint32_t n = own->size;
    if (n - 1 < pooled_tuple_max && own->refs.load(std::memory_order_acquire) == 1) {
      // Flat when no element's tag is one that shares a block (shares_block()): one bit
      // per tag, or-ed over the elements and tested once, instead of a test per element.
      const term* elements = own->terms();
      std::uint32_t tags = 0;
      for (std::uint32_t i = 0; i < n; ++i) {
        tags |= 1U << elements[i].raw_[0];
      }
      constexpr std::uint32_t sharing_tags =
          (1U << tag_heap_string) | (1U << tag_tuple) | (1U << tag_list) | (1U << tag_map);
      if ((tags & sharing_tags) == 0) {
        clear_raw();
        detail::term_pool::deallocate_class(own, sizeof(heap_block) + n * sizeof(term),
                                            tuple_class(n));
        return;
      }
    }
  }
  release_chain();
}

// Destroying a dead container's children recursively would overflow the stack on a term
// nested deeply enough, so dead containers wait on an explicit stack instead. It allocates
// nothing: a dead container's first slot, once its reference has been dropped, holds the
// link to the next dead container and its own slot count. Not inlined into release(), whose
// fast path would then pay this one's saved registers.
[[gnu::noinline]] void term::release_chain() noexcept {
  heap_block* dead = nullptr;
  // Drops the reference `t` holds and leaves it nil. A string that dies is freed; a container
  // that dies goes on `dead`, and so does each dead container found through first slots.
  auto drop = [&dead](term& t) noexcept {
    term first;
    for (term* at = &t;; at = &first) {
      auto* b = at->block();
      std::uint8_t t_tag = at->raw_[0];
      std::memset(at->raw_, 0, sizeof at->raw_);
      if (b == nullptr) {
        return;
      }
      // A count of 1 is ours alone: nobody else can change it, so the block is dead without
      // the atomic read-modify-write, which is dear on a block another core just wrote (a
      // message's block is built by the sender and freed by the receiver). The acquire pairs
      // with other owners' earlier releasing decrements.
      if (b->refs.load(std::memory_order_acquire) != 1
          && b->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
        return;
      }
      if (t_tag == tag_heap_string) {
        detail::term_pool::deallocate(b, sizeof(heap_block) + b->size);
        return;
      }
      term& slot = b->terms()[0];
      std::memcpy(first.raw_, slot.raw_, sizeof first.raw_);
      store(slot.raw_, dead_link{dead, t_tag == tag_map ? std::size_t{b->size} * 2 : b->size});
      dead = b;
    }
  };
  drop(*this);
  while (dead != nullptr) {
    heap_block* b = dead;
    auto link = load<dead_link>(b->terms()[0].raw_);
    dead = link.next;
    for (std::size_t i = 1; i < link.slots; ++i) {
      drop(b->terms()[i]);
    }
    detail::term_pool::deallocate(b, sizeof(heap_block) + link.slots * sizeof(term));
  }
}

term& term::operator=(const term& other) noexcept {
  if (this != &other) {
    // `other` may live in the block that release() frees (`t = t[0]`), so read it first.
    unsigned char copy[sizeof raw_];
    std::memcpy(copy, other.raw_, sizeof raw_);
    other.retain();
    release();
    std::memcpy(raw_, copy, sizeof raw_);
  }
  return *this;
}

// -- access -------------------------------------------------------------------------------

term_kind term::kind() const noexcept {
  switch (raw_[0]) {
  case tag_atom: return term_kind::atom;
  case tag_integer: return term_kind::integer;
  case tag_float: return term_kind::floating;
  case tag_small_string:
  case tag_heap_string: return term_kind::string;
  case tag_pid: return term_kind::pid;
  case tag_reference: return term_kind::reference;
  case tag_tuple: return term_kind::tuple;
  case tag_list: return term_kind::list;
  default: return term_kind::map;
  }
}

atom term::as_atom() const noexcept {
  VIGIL_ASSERT(raw_[0] == tag_atom);
  return atom::from_id(static_cast<std::uint32_t>(load<std::uint64_t>(raw_ + 8)));
}

double term::as_float() const noexcept {
  VIGIL_ASSERT(raw_[0] == tag_float);
  return load<double>(raw_ + 8);
}

reference term::as_reference() const noexcept {
  VIGIL_ASSERT(raw_[0] == tag_reference);
  std::uint32_t node = raw_[1] | (std::uint32_t{raw_[2]} << 8) | (std::uint32_t{raw_[3]} << 16);
  return {node, load<std::uint32_t>(raw_ + 4), load<std::uint32_t>(raw_ + 8),
          load<std::uint32_t>(raw_ + 12)};
}

std::string_view term::as_string() const noexcept {
  if (raw_[0] == tag_small_string) {
    return {reinterpret_cast<const char*>(raw_ + 2), raw_[1]};
  }
  VIGIL_ASSERT(raw_[0] == tag_heap_string);
  auto* b = block();
  return {b->bytes(), b->size};
}

void term::wrong_kind() const noexcept {
  detail::assert_failed("the term is of the kind this accessor requires", __FILE__, __LINE__);
}

std::size_t term::size_of_other() const noexcept {
  switch (raw_[0]) {
  case tag_small_string: return raw_[1];
  case tag_heap_string:
  case tag_tuple:
  case tag_list:
  case tag_map: {
    auto* b = block();
    return b == nullptr ? 0 : b->size;
  }
  default: return 0;
  }
}

const term& term::element_out_of_range() const noexcept {
  detail::assert_failed("i < items.size()", __FILE__, __LINE__);
}

std::span<const term> term::elements() const noexcept {
  if (raw_[0] != tag_tuple && raw_[0] != tag_list) {
    return {};
  }
  auto* b = block();
  return b == nullptr ? std::span<const term>{} : std::span<const term>{b->terms(), b->size};
}

const term& term::map_key(std::size_t i) const noexcept {
  VIGIL_ASSERT(raw_[0] == tag_map && i < size());
  return block()->terms()[2 * i];
}

const term& term::map_value(std::size_t i) const noexcept {
  VIGIL_ASSERT(raw_[0] == tag_map && i < size());
  return block()->terms()[2 * i + 1];
}

const term* term::find(const term& key) const noexcept {
  if (raw_[0] != tag_map) {
    return nullptr;
  }
  std::size_t lo = 0;
  std::size_t hi = size();
  while (lo < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    int c = compare(map_key(mid), key);
    if (c == 0) {
      return &map_value(mid);
    }
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return nullptr;
}

std::size_t term::heap_bytes() const noexcept {
  auto* b = block();
  if (b == nullptr) {
    return 0;
  }
  if (raw_[0] == tag_heap_string) {
    return sizeof(heap_block) + b->size;
  }
  std::size_t n = raw_[0] == tag_map ? std::size_t{b->size} * 2 : b->size;
  std::size_t total = sizeof(heap_block) + n * sizeof(term);
  for (std::size_t i = 0; i < n; ++i) {
    total += b->terms()[i].heap_bytes();
  }
  return total;
}

} // namespace vigil
