// SPDX-License-Identifier: Apache-2.0
// term's total order (Erlang's: number < atom < reference < pid < tuple < map < list <
// string), equality and hash.
#include "vigil/term/term.hpp"
#include "vigil/term/term_layout.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <compare>
#include <cstring>
#include <functional>
#include <span>
#include <string_view>

namespace vigil {
namespace {

int compare_numbers(const term& a, const term& b) noexcept {
  if (a.is_integer() && b.is_integer()) {
    auto x = a.as_integer();
    auto y = b.as_integer();
    return (x > y) - (x < y);
  }
  // long double has a 64-bit mantissa on x86-64, so every int64 converts exactly.
  long double x = a.is_integer() ? static_cast<long double>(a.as_integer()) : a.as_float();
  long double y = b.is_integer() ? static_cast<long double>(b.as_integer()) : b.as_float();
  bool x_nan = std::isnan(x);
  bool y_nan = std::isnan(y);
  if (!x_nan && !y_nan) {
    if (x < y) {
      return -1;
    }
    if (x > y) {
      return 1;
    }
  } else if (x_nan != y_nan) {
    return x_nan ? 1 : -1; // NaN after every number
  }
  // Equal by value (or both NaN): an integer sorts before the float equal to it, and two
  // floats fall back to their bits so that the order agrees with exact equality.
  if (a.kind() != b.kind()) {
    return a.is_integer() ? -1 : 1;
  }
  auto xb = std::bit_cast<std::uint64_t>(a.as_float());
  auto yb = std::bit_cast<std::uint64_t>(b.as_float());
  return (xb > yb) - (xb < yb);
}

int compare_sequences(std::span<const term> a, std::span<const term> b) noexcept {
  auto n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (int c = compare(a[i], b[i]); c != 0) {
      return c;
    }
  }
  return (a.size() > b.size()) - (a.size() < b.size());
}

int compare_maps(const term& a, const term& b) noexcept {
  if (a.size() != b.size()) {
    return a.size() < b.size() ? -1 : 1;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (int c = compare(a.map_key(i), b.map_key(i)); c != 0) {
      return c;
    }
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (int c = compare(a.map_value(i), b.map_value(i)); c != 0) {
      return c;
    }
  }
  return 0;
}

int order_rank(term_kind k) noexcept {
  return k == term_kind::floating ? 0 : static_cast<int>(k);
}

std::size_t mix(std::size_t seed, std::size_t value) noexcept {
  return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

} // namespace

// -- order, equality, hash ----------------------------------------------------------------

int compare(const term& a, const term& b) noexcept {
  auto ka = a.kind();
  auto kb = b.kind();
  int ra = order_rank(ka);
  int rb = order_rank(kb);
  if (ra != rb) {
    return ra < rb ? -1 : 1;
  }
  switch (ka) {
  case term_kind::integer:
  case term_kind::floating: return compare_numbers(a, b);
  case term_kind::atom: {
    if (a.as_atom() == b.as_atom()) {
      return 0;
    }
    int c = a.as_atom().name().compare(b.as_atom().name());
    return (c > 0) - (c < 0);
  }
  case term_kind::reference: {
    auto c = a.as_reference() <=> b.as_reference();
    return (c > 0) - (c < 0);
  }
  case term_kind::pid: {
    auto c = a.as_pid() <=> b.as_pid();
    return (c > 0) - (c < 0);
  }
  case term_kind::tuple:
    if (a.size() != b.size()) {
      return a.size() < b.size() ? -1 : 1;
    }
    return compare_sequences(a.elements(), b.elements());
  case term_kind::map: return compare_maps(a, b);
  case term_kind::list: return compare_sequences(a.elements(), b.elements());
  case term_kind::string: {
    int c = a.as_string().compare(b.as_string());
    return (c > 0) - (c < 0);
  }
  }
  return 0;
}

bool operator==(const term& a, const term& b) noexcept {
  if (a.raw_[0] != b.raw_[0]) {
    // A string's length alone decides whether it is inline, so tags differ only between
    // different kinds or different strings.
    return false;
  }
  switch (a.raw_[0]) {
  case tag_atom:
  case tag_integer:
  case tag_float: // bitwise: exact equality for floats
  case tag_pid:
  case tag_reference:
  case tag_small_string: return std::memcmp(a.raw_, b.raw_, sizeof a.raw_) == 0;
  default:
    if (a.block() == b.block()) {
      return true;
    }
    return compare(a, b) == 0;
  }
}

std::size_t term::hash() const noexcept {
  switch (raw_[0]) {
  case tag_small_string:
  case tag_heap_string: return std::hash<std::string_view>{}(as_string());
  case tag_tuple:
  case tag_list: {
    std::size_t h = raw_[0];
    for (const auto& e : elements()) {
      h = mix(h, e.hash());
    }
    return h;
  }
  case tag_map: {
    std::size_t h = tag_map;
    for (std::size_t i = 0; i < size(); ++i) {
      h = mix(mix(h, map_key(i).hash()), map_value(i).hash());
    }
    return h;
  }
  default: {
    std::size_t h = raw_[0];
    h = mix(h, load<std::uint64_t>(raw_));
    return mix(h, load<std::uint64_t>(raw_ + 8));
  }
  }
}

} // namespace vigil
