// SPDX-License-Identifier: Apache-2.0
// Building patterns (any, bind, literal, tuple, list, map) as flat pre-order nodes, and
// matching a term against them, binding the named slots.
#include "vigil/term/pattern.hpp"

#include "vigil/common/assert.hpp"
#include "vigil/term/pattern_detail.hpp"

#include <algorithm>
#include <cstddef>
#include <span>

namespace vigil {

bool passes(type_test test, const term& t) noexcept {
  switch (test) {
  case type_test::any: return true;
  case type_test::atom: return t.is_atom();
  case type_test::integer: return t.is_integer();
  case type_test::floating: return t.is_float();
  case type_test::number: return t.is_integer() || t.is_float();
  case type_test::string: return t.is_string();
  case type_test::pid: return t.is_pid();
  case type_test::reference: return t.is_reference();
  case type_test::tuple: return t.is_tuple();
  case type_test::list: return t.is_list();
  case type_test::map: return t.is_map();
  }
  return false;
}

const term& bindings::operator[](std::size_t slot) const noexcept {
  VIGIL_ASSERT(slot < size_);
  return values_[slot];
}

pattern pattern::any() {
  pattern p;
  p.nodes_.emplace_back();
  return p;
}

pattern pattern::bind(std::string_view name, type_test test) {
  VIGIL_ASSERT(!name.empty());
  pattern p;
  node n;
  n.test = test;
  if (name[0] != '_') {
    n.kind = node_kind::bind;
    n.slot = 0;
    p.names_.emplace_back(name);
  }
  p.nodes_.push_back(std::move(n));
  return p;
}

pattern pattern::literal(term value) {
  pattern p;
  node n;
  n.kind = node_kind::literal;
  n.value = std::move(value);
  p.nodes_.push_back(std::move(n));
  return p;
}

pattern::pattern(term value) : pattern(literal(std::move(value))) {}

pattern pattern::tuple(std::initializer_list<pattern> elements) {
  return container(node_kind::tuple, elements);
}

pattern pattern::list(std::initializer_list<pattern> elements) {
  return container(node_kind::list, elements);
}

pattern pattern::map(std::initializer_list<std::pair<term, pattern>> entries) {
  pattern p;
  p.nodes_.emplace_back();
  p.nodes_[0].kind = node_kind::map;
  p.nodes_[0].arity = static_cast<std::uint32_t>(entries.size());
  for (const auto& [key, value] : entries) {
    p.append_subtree(value, &key);
  }
  p.nodes_[0].extent = static_cast<std::uint32_t>(p.nodes_.size());
  return p;
}

pattern pattern::container(node_kind kind, std::initializer_list<pattern> children) {
  pattern p;
  p.nodes_.emplace_back();
  p.nodes_[0].kind = kind;
  p.nodes_[0].arity = static_cast<std::uint32_t>(children.size());
  for (const pattern& child : children) {
    p.append_subtree(child, nullptr);
  }
  p.nodes_[0].extent = static_cast<std::uint32_t>(p.nodes_.size());
  detail::collapse_if_ground<node_kind>(p.nodes_, 0, false);
  return p;
}

// Slots are renumbered in the order names first appear in the combined pattern, which is
// the order `match_at` meets them. Aborts past `bindings::capacity` distinct names.
void pattern::append_subtree(const pattern& child, const term* key) {
  VIGIL_ASSERT(!child.nodes_.empty());
  if (key != nullptr) {
    nodes_.emplace_back();
    nodes_.back().kind = node_kind::literal;
    nodes_.back().value = *key;
  }
  for (node n : child.nodes_) {
    if (n.slot >= 0) {
      const std::string& name = child.names_[static_cast<std::size_t>(n.slot)];
      n.slot = slot(name);
      if (n.slot < 0) {
        VIGIL_ASSERT(names_.size() < bindings::capacity);
        n.slot = static_cast<std::int32_t>(names_.size());
        names_.push_back(name);
      }
    }
    nodes_.push_back(std::move(n));
  }
}

bool pattern::matches(const term& t) const noexcept {
  bindings scratch;
  return match(t, scratch);
}

bool pattern::match(const term& t, bindings& out) const noexcept {
  VIGIL_ASSERT(!nodes_.empty());
  out.size_ = 0;
  return match_at(0, t, out);
}

bool pattern::match_at(std::size_t index, const term& t, bindings& out) const noexcept {
  const node& n = nodes_[index];
  switch (n.kind) {
  case node_kind::any: return passes(n.test, t);
  case node_kind::literal: return t == n.value;
  case node_kind::bind: {
    if (!passes(n.test, t)) {
      return false;
    }
    auto slot = static_cast<std::size_t>(n.slot);
    if (slot < out.size_) {
      return out.values_[slot] == t;
    }
    out.values_[slot] = t; // a copy: at most a reference count increment
    out.size_ = slot + 1;
    return true;
  }
  case node_kind::tuple:
  case node_kind::list: {
    auto kind = n.kind == node_kind::tuple ? term_kind::tuple : term_kind::list;
    std::span<const term> elements = t.elements();
    if (t.kind() != kind || elements.size() != n.arity) {
      return false;
    }
    std::size_t child = index + 1;
    for (const term& element : elements) {
      if (!match_at(child, element, out)) {
        return false;
      }
      child += nodes_[child].extent;
    }
    return true;
  }
  case node_kind::map: {
    if (!t.is_map()) {
      return false;
    }
    std::size_t key = index + 1;
    for (std::uint32_t i = 0; i < n.arity; ++i) {
      const term* value = t.find(nodes_[key].value);
      if (value == nullptr || !match_at(key + 1, *value, out)) {
        return false;
      }
      key += 1 + nodes_[key + 1].extent;
    }
    return true;
  }
  }
  return false;
}

const term* pattern::tuple_head(std::size_t& arity) const noexcept {
  VIGIL_ASSERT(!nodes_.empty());
  const node& root = nodes_[0];
  // A tuple node matches only tuples of its arity whose elements match its children in order;
  // a ground tuple was collapsed into one literal node.
  if (root.kind == node_kind::tuple && root.arity > 0 && nodes_[1].kind == node_kind::literal) {
    arity = root.arity;
    return &nodes_[1].value;
  }
  if (root.kind == node_kind::literal && root.value.is_tuple() && root.value.size() > 0) {
    arity = root.value.size();
    return &root.value[0];
  }
  return nullptr;
}

int pattern::slot(std::string_view name) const noexcept {
  auto found = std::find(names_.begin(), names_.end(), name);
  return found == names_.end() ? -1 : static_cast<int>(found - names_.begin());
}

} // namespace vigil
