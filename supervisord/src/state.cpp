// SPDX-License-Identifier: Apache-2.0
#include "state.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

namespace vigil::daemon {
namespace {

term random_key() {
  std::array<char, 16> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n <= 0) {
      break; // EINTR at worst, before the pool is ready; the clock below still differs
    }
    got += static_cast<std::size_t>(n);
  }
  std::string key(bytes.data(), bytes.size());
  key += std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  return term(key);
}

} // namespace

daemon_state::daemon_state(runtime& r, const workers::kind_registry& k, outbox& o, event_store& e,
                           std::filesystem::path path, config::config_tree c, access_policy p)
    : rt(r), kinds(k), out(o), events(e), config_path(std::move(path)), hub_key(random_key()),
      config_(std::make_shared<const config::config_tree>(std::move(c))), policy_(std::move(p)) {}

std::shared_ptr<const config::config_tree> daemon_state::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

void daemon_state::set_config(std::shared_ptr<const config::config_tree> c) {
  std::lock_guard lock(mutex_);
  config_ = std::move(c);
}

std::string daemon_state::root_escalation() const {
  std::lock_guard lock(mutex_);
  return root_escalation_;
}

void daemon_state::set_root_escalation(std::string why) {
  std::lock_guard lock(mutex_);
  root_escalation_ = std::move(why);
}

pid daemon_state::root() const {
  std::lock_guard lock(mutex_);
  return root_;
}

void daemon_state::set_root(pid p) {
  std::lock_guard lock(mutex_);
  if (root_ != pid{}) {
    guarded.remove(root_);
  }
  root_ = p;
  if (p != pid{}) {
    guarded.add(p, "vigild's root supervisor");
  }
}

access_policy daemon_state::policy() const {
  std::lock_guard lock(mutex_);
  return policy_;
}

void daemon_state::set_policy(access_policy p) {
  std::lock_guard lock(mutex_);
  policy_ = std::move(p);
}

void daemon_state::retire_root(pid r) {
  std::lock_guard lock(mutex_);
  retired_.insert(r);
}

bool daemon_state::retired(pid r) const {
  std::lock_guard lock(mutex_);
  return retired_.contains(r);
}

atom_budget& daemon_state::client_atoms(::uid_t uid) {
  std::lock_guard lock(mutex_);
  auto& budget = client_atoms_[uid];
  if (!budget) {
    bool trusted = uid == 0 || uid == ::geteuid();
    budget = std::make_unique<atom_budget>(
        trusted ? trusted_client_atoms_limit : client_atoms_limit, &atom_budget::outside());
  }
  return *budget;
}

bool daemon_state::may_detach(::uid_t uid) {
  std::lock_guard lock(mutex_);
  std::erase_if(detached_, [&](const detached_process& d) { return !rt.alive(d.process); });
  auto mine = std::count_if(detached_.begin(), detached_.end(),
                            [&](const detached_process& d) { return d.uid == uid; });
  return static_cast<std::size_t>(mine) < max_detached_per_user;
}

void daemon_state::add_detached(detached_process p) {
  std::lock_guard lock(mutex_);
  detached_.push_back(std::move(p));
}

std::vector<daemon_state::detached_process> daemon_state::detached() {
  std::lock_guard lock(mutex_);
  std::erase_if(detached_, [&](const detached_process& d) { return !rt.alive(d.process); });
  return detached_;
}

} // namespace vigil::daemon
