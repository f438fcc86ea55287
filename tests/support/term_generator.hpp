// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace vigil::test {

/// Generates random terms of every kind for property tests. Deterministic for a seed, so a
/// failure names the seed that reproduces it.
class term_generator {
public:
  explicit term_generator(std::uint64_t seed) : rng_(seed) {}

  /// A term nested at most `depth` containers deep.
  term next(int depth = 4) {
    int kinds = depth > 0 ? 9 : 6;
    switch (pick(0, kinds - 1)) {
    case 0: return integer();
    case 1: return floating();
    case 2: return term(atom(name(false)));
    case 3: return term(string());
    case 4: return term(vigil::pid{pick32(), pick32(), pick32()});
    case 5: return term(reference{pick32() & reference::max_node, pick32(), pick32(), pick32()});
    case 6: return term::tuple(children(depth));
    case 7: return term::list(children(depth));
    default: {
      std::vector<std::pair<term, term>> entries;
      int n = pick(0, 4);
      for (int i = 0; i < n; ++i) {
        entries.emplace_back(next(depth - 1), next(depth - 1));
      }
      return term::map(entries);
    }
    }
  }

private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::uint32_t pick32() { return static_cast<std::uint32_t>(rng_()); }

  term integer() {
    switch (pick(0, 3)) {
    case 0: return term(pick(-10, 10));
    case 1: return term(std::numeric_limits<std::int64_t>::min());
    case 2: return term(std::numeric_limits<std::int64_t>::max());
    default: return term(static_cast<std::int64_t>(rng_()));
    }
  }

  term floating() {
    switch (pick(0, 4)) {
    case 0: return term(0.1);
    case 1: return term(-0.0);
    case 2: return term(1e300);
    case 3: return term(5e-324);
    default: {
      double d = std::bit_cast<double>(rng_());
      return term(std::isfinite(d) ? d : 1.5);
    }
    }
  }

  // Atom names: identifier-like ones and ones that need quoting.
  std::string name(bool allow_empty) {
    static constexpr std::string_view plain = "abcdefghijklmnopqrstuvwxyzABCXYZ_0123456789?!@";
    static constexpr std::string_view odd = " \"\\:{}%#<>\n\t-.é";
    std::string s;
    int n = pick(allow_empty ? 0 : 1, 8);
    for (int i = 0; i < n; ++i) {
      if (pick(0, 5) == 0) {
        s += odd[static_cast<std::size_t>(pick(0, static_cast<int>(odd.size()) - 1))];
      } else {
        s += plain[static_cast<std::size_t>(pick(0, static_cast<int>(plain.size()) - 1))];
      }
    }
    return s;
  }

  std::string string() {
    if (pick(0, 3) == 0) {
      std::string bytes; // arbitrary bytes, invalid UTF-8 included
      int n = pick(0, 40);
      for (int i = 0; i < n; ++i) {
        bytes += static_cast<char>(pick(0, 255));
      }
      return bytes;
    }
    std::string s = name(true);
    if (pick(0, 2) == 0) {
      s += std::string(static_cast<std::size_t>(pick(0, 30)), 'x'); // past the inline limit
    }
    return s;
  }

  std::vector<term> children(int depth) {
    std::vector<term> out;
    int n = pick(0, 5);
    for (int i = 0; i < n; ++i) {
      out.push_back(next(depth - 1));
    }
    return out;
  }

  std::mt19937_64 rng_;
};

} // namespace vigil::test
