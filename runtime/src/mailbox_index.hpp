// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/runtime/context.hpp"

#include "signal.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace vigil::detail {

/// A class of messages: tuples of `arity` elements whose first element is `first`, an atom,
/// integer, pid or reference (`{:tag, _}`, `{ref, reply}`, `{:EXIT, from, reason}`).
struct message_head {
  std::size_t arity = 0;
  term first;

  friend bool operator==(const message_head&, const message_head&) noexcept = default;
};

/// The head of `message`, if it has one that the index files messages under.
[[nodiscard]] bool head_of(const term& message, message_head& out) noexcept;

/// The heads a receive can accept: every message it can match has one of them.
struct receive_heads {
  static constexpr std::size_t max = 8;
  std::array<message_head, max> heads{};
  std::size_t count = 0;
};

/// Fills `out` when every message `match` can accept has one of at most `receive_heads::max`
/// heads (patterns whose first element is a literal, or `none`); false when any message
/// might match (`any`, a predicate, a clause like `{from, msg}`).
[[nodiscard]] bool heads_of(const matcher& match, receive_heads& out) noexcept;

/// The messages of one class, oldest first. Taking the oldest is O(1); taking another
/// finds it by arrival number.
class message_class {
public:
  void push(signal* s) { members_.push_back(s); }

  void remove(signal* s) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return members_.size() - first_; }

  [[nodiscard]] signal* at(std::size_t i) const noexcept { return members_[first_ + i]; }

private:
  std::vector<signal*> members_;
  std::size_t first_ = 0; ///< members before it were taken
};

/// Selective receive without scanning: a process's mailbox messages by head, so that a
/// receive whose clauses all have a fixed head (`heads_of`) tests only the messages of
/// those classes instead of every queued message. The mailbox list stays the order of
/// record; the index is built when a receive meets a long mailbox and dropped when the
/// mailbox empties, so short mailboxes (ping-pong, one-way) never pay for it.
class mailbox_index {
public:
  /// Files `s`, the newest message, and numbers it (`extra`) in arrival order.
  void add(signal* s);
  /// Unfiles `s`, which is being taken out of the mailbox.
  void remove(signal* s) noexcept;
  /// The class of `head`, or null when no queued message has it.
  [[nodiscard]] const message_class* find(const message_head& head) const noexcept;

private:
  struct hasher {
    std::size_t operator()(const message_head& h) const noexcept {
      return h.first.hash() * 31 + h.arity;
    }
  };

  std::unordered_map<message_head, message_class, hasher> classes_;
  std::uint64_t arrivals_ = 0;
};

} // namespace vigil::detail
