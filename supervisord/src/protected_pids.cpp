// SPDX-License-Identifier: Apache-2.0
#include "protected_pids.hpp"

#include "vigil/term/text.hpp"

#include <mutex>

namespace vigil::daemon {

void protected_pids::add(pid p, std::string what, role kind, std::optional<std::uint32_t> client) {
  std::unique_lock lock(mutex_);
  entries_[p] = entry{std::move(what), kind, client};
}

void protected_pids::remove(pid p) {
  std::unique_lock lock(mutex_);
  entries_.erase(p);
}

std::optional<protected_pids::entry> protected_pids::find(pid p) const {
  std::shared_lock lock(mutex_);
  auto it = entries_.find(p);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return it->second;
}

bool protected_pids::shields(pid p) const {
  std::shared_lock lock(mutex_);
  auto it = entries_.find(p);
  return it != entries_.end() && it->second.kind == role::daemon;
}

std::optional<std::string> protected_pids::refusal(pid p, pid own) const {
  if (p == own) {
    return std::nullopt;
  }
  auto e = find(p);
  if (!e) {
    return std::nullopt;
  }
  return to_string(term(p)) + " is " + e->what
         + "; it cannot be sent to, killed or exited from outside";
}

std::size_t protected_pids::size() const {
  std::shared_lock lock(mutex_);
  return entries_.size();
}

protected_scope::protected_scope(protected_pids& set, pid self, std::string what,
                                 protected_pids::role kind, std::optional<std::uint32_t> client)
    : set_(set), self_(self) {
  set_.add(self_, std::move(what), kind, client);
}

protected_scope::~protected_scope() {
  set_.remove(self_);
}

} // namespace vigil::daemon
