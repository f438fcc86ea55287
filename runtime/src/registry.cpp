// SPDX-License-Identifier: Apache-2.0
#include "registry.hpp"

#include "process.hpp"

namespace vigil::detail {

result<void> registry::add(atom name, process& p, pid id) {
  {
    std::lock_guard lock(mutex_);
    if (by_name_.contains(name.id())) {
      return error{make_error_code(errc::already_exists),
                   "name :" + std::string(name.name()) + " is already registered"};
    }
    if (by_index_.contains(id.index)) {
      return error{make_error_code(errc::already_exists), "the process already has a name"};
    }
    if (p.serial.load(std::memory_order_seq_cst) != id.serial) {
      return error{make_error_code(errc::not_found), "the process is not alive"};
    }
    by_name_.emplace(name.id(), id);
    by_index_.emplace(id.index, name);
  }
  // Dekker-style handshake with a concurrent death: it bumps the serial and then reads
  // `named`; we set `named` and then re-read the serial. One of us sees the other.
  p.named.store(true, std::memory_order_seq_cst);
  if (p.serial.load(std::memory_order_seq_cst) != id.serial) {
    remove_process(p, id);
    return error{make_error_code(errc::not_found), "the process is not alive"};
  }
  return {};
}

result<void> registry::remove(atom name) {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name.id());
  if (it == by_name_.end()) {
    return error{make_error_code(errc::not_found),
                 "name :" + std::string(name.name()) + " is not registered"};
  }
  by_index_.erase(it->second.index);
  by_name_.erase(it);
  return {};
}

void registry::remove_process(process& p, pid id) {
  if (!p.named.exchange(false, std::memory_order_seq_cst)) {
    return;
  }
  std::lock_guard lock(mutex_);
  auto it = by_index_.find(id.index);
  if (it == by_index_.end()) {
    return;
  }
  auto by_name = by_name_.find(it->second.id());
  if (by_name != by_name_.end() && by_name->second == id) {
    by_name_.erase(by_name);
  }
  by_index_.erase(it);
}

std::optional<pid> registry::whereis(atom name) const {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name.id());
  if (it == by_name_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<atom> registry::name_of(pid id) const {
  std::lock_guard lock(mutex_);
  auto it = by_index_.find(id.index);
  if (it == by_index_.end() || by_name_.at(it->second.id()) != id) {
    return std::nullopt;
  }
  return it->second;
}

std::vector<atom> registry::names() const {
  std::lock_guard lock(mutex_);
  std::vector<atom> out;
  out.reserve(by_name_.size());
  for (const auto& [id, p] : by_name_) {
    out.push_back(atom::from_id(id));
  }
  return out;
}

} // namespace vigil::detail
