// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <cstddef>
#include <utility>
#include <vector>

namespace vigil::detail {

/// Turns the tuple or list node at `start`, the last subtree in `nodes`, into one literal node
/// when its children are all literals, so that matching it is a single comparison. With
/// `maps_too` (while parsing a map key), a map of literals collapses as well. Templated on
/// the node types so that `pattern`'s members can pass its private ones.
template <class Kind, class Node>
void collapse_if_ground(std::vector<Node>& nodes, std::size_t start, bool maps_too) {
  const Node& head = nodes[start];
  bool is_map = head.kind == Kind::map;
  if ((is_map && !maps_too) || (!is_map && head.kind != Kind::tuple && head.kind != Kind::list)
      || head.extent != (is_map ? 2 * head.arity : head.arity) + 1) {
    return;
  }
  std::vector<term> values;
  for (std::size_t i = start + 1; i < nodes.size(); ++i) {
    if (nodes[i].kind != Kind::literal) {
      return;
    }
    values.push_back(nodes[i].value);
  }
  term value;
  if (is_map) {
    std::vector<std::pair<term, term>> entries;
    for (std::size_t i = 0; i < values.size(); i += 2) {
      entries.emplace_back(values[i], values[i + 1]);
    }
    value = term::map(entries);
  } else {
    value = head.kind == Kind::tuple ? term::tuple(values) : term::list(values);
  }
  nodes.resize(start + 1);
  nodes[start] = Node{};
  nodes[start].kind = Kind::literal;
  nodes[start].value = std::move(value);
}

} // namespace vigil::detail
