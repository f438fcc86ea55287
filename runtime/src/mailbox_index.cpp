// SPDX-License-Identifier: Apache-2.0
#include "mailbox_index.hpp"

#include "vigil/common/assert.hpp"

#include "matchers.hpp"

#include <algorithm>

namespace vigil::detail {
namespace {

bool indexable_first(const term& t) noexcept {
  switch (t.kind()) {
  case term_kind::atom:
  case term_kind::integer:
  case term_kind::pid:
  case term_kind::reference: return true;
  default: return false;
  }
}

/// Adds the head of `clause` to `out`; false when the clause has none (it may match
/// messages of any class) or there are too many.
bool add_head(const pattern& clause, receive_heads& out) noexcept {
  std::size_t arity = 0;
  const term* first = clause.tuple_head(arity);
  if (first == nullptr || !indexable_first(*first)) {
    return false;
  }
  message_head head{arity, *first};
  auto end = out.heads.begin() + static_cast<std::ptrdiff_t>(out.count);
  if (std::find(out.heads.begin(), end, head) != end) {
    return true;
  }
  if (out.count == receive_heads::max) {
    return false;
  }
  out.heads[out.count++] = std::move(head);
  return true;
}

} // namespace

bool head_of(const term& message, message_head& out) noexcept {
  if (!message.is_tuple()) {
    return false;
  }
  std::span<const term> elements = message.elements();
  if (elements.empty() || !indexable_first(elements[0])) {
    return false;
  }
  out.arity = elements.size();
  out.first = elements[0];
  return true;
}

bool heads_of(const matcher& match, receive_heads& out) noexcept {
  out.count = 0;
  if (match.test == &match_none) {
    return true; // matches nothing: no class to look at
  }
  if (match.test == &match_one) {
    return add_head(*static_cast<const pattern*>(match.object), out);
  }
  if (match.test == &match_clauses) {
    const auto* clauses = static_cast<const pattern*>(match.object);
    for (std::size_t i = 0; i < match.count; ++i) {
      if (!add_head(clauses[i], out)) {
        return false;
      }
    }
    return true;
  }
  return false;
}

void message_class::remove(signal* s) noexcept {
  VIGIL_ASSERT(size() > 0);
  if (members_[first_] == s) {
    // The common case: the oldest of its class goes (in receive order, or by `any`).
    ++first_;
    if (first_ >= 64 && first_ * 2 >= members_.size()) {
      members_.erase(members_.begin(), members_.begin() + static_cast<std::ptrdiff_t>(first_));
      first_ = 0;
    }
    return;
  }
  // Members are in arrival order, and `extra` is a message's arrival number.
  auto begin = members_.begin() + static_cast<std::ptrdiff_t>(first_);
  auto it = std::lower_bound(begin, members_.end(), s->extra,
                             [](const signal* m, std::uint64_t seq) { return m->extra < seq; });
  VIGIL_ASSERT(it != members_.end() && *it == s);
  members_.erase(it);
}

void mailbox_index::add(signal* s) {
  s->extra = ++arrivals_;
  message_head head;
  if (head_of(s->payload, head)) {
    classes_[std::move(head)].push(s);
  }
}

void mailbox_index::remove(signal* s) noexcept {
  message_head head;
  if (!head_of(s->payload, head)) {
    return;
  }
  auto it = classes_.find(head);
  VIGIL_ASSERT(it != classes_.end());
  it->second.remove(s);
  if (it->second.size() == 0) {
    // A call's reply class never comes back (each call has a new reference): keeping empty
    // classes would grow the index with every call behind a long mailbox.
    classes_.erase(it);
  }
}

const message_class* mailbox_index::find(const message_head& head) const noexcept {
  auto it = classes_.find(head);
  return it == classes_.end() ? nullptr : &it->second;
}

} // namespace vigil::detail
