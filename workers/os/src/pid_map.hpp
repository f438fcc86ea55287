// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <utility>
#include <vector>

namespace vigil::os::detail {

/// `t` with every pid `p` in it replaced by `f(p)`; `changed` is set when one was. Shares
/// `t` (no copy) when nothing changes. Recurses once per level of nesting: terms from a
/// channel are bounded by the decoder's depth limit.
template <class F>
term map_pids(const term& t, F& f, bool& changed) {
  switch (t.kind()) {
  case term_kind::pid: {
    pid p = t.as_pid();
    pid q = f(p);
    if (q == p) {
      return t;
    }
    changed = true;
    return term(q);
  }
  case term_kind::tuple:
  case term_kind::list: {
    std::vector<term> out;
    bool inner = false;
    out.reserve(t.size());
    for (const term& e : t.elements()) {
      out.push_back(map_pids(e, f, inner));
    }
    if (!inner) {
      return t;
    }
    changed = true;
    return t.is_tuple() ? term::tuple(out) : term::list(out);
  }
  case term_kind::map: {
    std::vector<std::pair<term, term>> out;
    bool inner = false;
    out.reserve(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
      out.emplace_back(map_pids(t.map_key(i), f, inner), map_pids(t.map_value(i), f, inner));
    }
    if (!inner) {
      return t;
    }
    changed = true;
    return term::map(out);
  }
  default: return t;
  }
}

/// `map_pids` without the flag.
template <class F>
term map_pids(const term& t, F& f) {
  bool changed = false;
  return map_pids(t, f, changed);
}

} // namespace vigil::os::detail
