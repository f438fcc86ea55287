// SPDX-License-Identifier: Apache-2.0
// The index of the running tree (tree_index.hpp): how each supervisor event changes the
// entry of its child, and the lookups the commands make.
#include "tree_index.hpp"

#include "vigil/term/text.hpp"

#include "event_store.hpp"

#include <algorithm>

namespace vigil::daemon {
namespace {

using supervision::child_event;
using supervision::child_state;
using supervision::exit_report;

std::string_view parent_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::int64_t ms_of(supervision::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string reason_text(const term& reason) {
  return reason.is_string() ? std::string(reason.as_string()) : to_string(reason);
}

} // namespace

supervision::child_info indexed_child::info(std::int64_t now_ms) const {
  supervision::child_info i;
  i.id = id;
  i.process = process;
  i.type = type;
  i.state = state;
  if (state == child_state::backoff || state == child_state::failed) {
    i.backoff_left = supervision::milliseconds(std::max<std::int64_t>(0, due_ms - now_ms));
  }
  if (state == child_state::failed) {
    i.reason = reason;
    i.retry = retry;
  } else if (state == child_state::starting) {
    i.waiting_for = reason;
  } else if (state == child_state::stopped) {
    i.reason = reason; // exited for good (no_restart_exit_codes), or a crash not restarted
  }
  return i;
}

std::string tree_index::identity(const child_event& e) {
  // Dynamic children share their path; their key tells them apart ('#' is not in an id).
  // Twins' children share theirs too: their supervisor's process tells them apart.
  std::string who = e.path;
  if (e.dynamic) {
    who += '#';
    who += std::to_string(e.key);
  }
  who += '@';
  who += std::to_string(pid_key(e.supervisor));
  return who;
}

std::optional<tree_index::handle> tree_index::find(const child_event& e) const {
  auto it = by_identity_.find(identity(e));
  if (it == by_identity_.end()) {
    return std::nullopt;
  }
  return it->second;
}

tree_index::handle tree_index::add(const child_event& e) {
  handle h = next_++;
  slot s;
  s.child.path = e.path;
  s.child.id = e.id;
  s.child.type = e.type;
  s.child.dynamic = e.dynamic;
  s.child.supervisor = e.supervisor;
  s.identity = identity(e);
  s.family = pid_key(e.supervisor);
  by_identity_.emplace(s.identity, h);
  by_id_[e.id].emplace(h, true);
  slot* at = &entries_.emplace(h, std::move(s)).first->second;
  children_[std::string(parent_of(e.path))][at->family].emplace_back(h, at); // h is the newest
  by_path_[e.path].emplace(h, at);
  return h;
}

void tree_index::erase(handle h, std::vector<orphaned_child>* running) {
  auto it = entries_.find(h);
  if (it == entries_.end()) {
    return;
  }
  const indexed_child& c = it->second.child;
  if (c.process) {
    by_pid_.erase(pid_key(*c.process));
    if (running != nullptr) {
      running->push_back({c.path, *c.process});
    }
  }
  by_identity_.erase(it->second.identity);
  if (auto ids = by_id_.find(c.id); ids != by_id_.end()) {
    ids->second.erase(h);
    if (ids->second.empty()) {
      by_id_.erase(ids);
    }
  }
  if (auto sib = children_.find(parent_of(c.path)); sib != children_.end()) {
    if (auto family = sib->second.find(it->second.family); family != sib->second.end()) {
      auto& list = family->second;
      auto at = std::lower_bound(list.begin(), list.end(), h,
                                 [](const auto& entry, handle key) { return entry.first < key; });
      if (at != list.end() && at->first == h) {
        list.erase(at);
      }
      if (list.empty()) {
        sib->second.erase(family);
      }
    }
    if (sib->second.empty()) {
      children_.erase(sib);
    }
  }
  if (auto same = by_path_.find(c.path); same != by_path_.end()) {
    same->second.erase(h);
    if (same->second.empty()) {
      by_path_.erase(same);
    }
  }
  std::string path = c.path;
  std::optional<pid> process = c.process;
  bool supervisor = c.type == supervision::child_type::supervisor;
  entries_.erase(it);
  if (supervisor && process) {
    erase_under(path, pid_key(*process), running); // if stopped, they went with its stop
  }
}

void tree_index::erase_under(std::string_view path, std::uint64_t sup,
                             std::vector<orphaned_child>* running) {
  auto it = children_.find(path);
  if (it == children_.end()) {
    return;
  }
  auto family = it->second.find(sup);
  if (family == it->second.end()) {
    return;
  }
  // Taken out of the map first: erase() then finds no sibling list to search and shrink,
  // so dropping a supervisor of n children costs O(n), not n erases from a vector's front.
  sibling_list below = std::move(family->second);
  it->second.erase(family);
  if (it->second.empty()) {
    children_.erase(it);
  }
  for (const auto& [h, _] : below) {
    erase(h, running);
  }
}

void tree_index::drop_stale_families(const std::string& path, std::uint64_t sup) {
  auto it = children_.find(path);
  if (it == children_.end() || it->second.size() < 2) {
    return;
  }
  std::vector<std::uint64_t> stale;
  for (const auto& [family, list] : it->second) {
    // A family whose supervisor runs (a twin), or may still be starting (a child of it
    // runs), or that was told with no supervisor at all, is kept.
    if (family == sup || family == pid_key(pid{}) || by_pid_.contains(family)) {
      continue;
    }
    bool live = std::any_of(list.begin(), list.end(), [](const auto& entry) {
      return entry.second->child.process.has_value();
    });
    if (!live) {
      stale.push_back(family);
    }
  }
  for (std::uint64_t family : stale) {
    erase_under(path, family);
  }
}

const tree_index::slot* tree_index::at_path(std::string_view path) const {
  // A dynamic child (one a simple_one_for_one supervisor started) shares its path with its
  // siblings, and a child of such a child with its twins': the path names it while it is
  // alone there.
  if (auto it = by_path_.find(path); it != by_path_.end() && it->second.size() == 1) {
    return it->second.begin()->second;
  }
  return nullptr;
}

void tree_index::stop(indexed_child& c, std::vector<orphaned_child>* running) {
  std::optional<pid> process = c.process;
  if (c.process) {
    by_pid_.erase(pid_key(*c.process));
    c.process.reset();
  }
  c.last_os_pid = c.os_pid;
  c.os_pid = 0;
  c.state = child_state::stopped;
  c.reason.clear(); // a decision that follows says why, if it is news
  if (c.type == supervision::child_type::supervisor && process) {
    erase_under(c.path, pid_key(*process), running); // its children died with it
  }
}

void tree_index::decided(indexed_child& c, const exit_report& r, std::int64_t now_ms) {
  ++c.decisions;
  c.history.push_back({now_ms, r.what, reason_text(r.reason)});
  if (c.history.size() > history_size) {
    c.history.erase(c.history.begin());
  }
  switch (r.what) {
  case exit_report::decision::restart: c.state = child_state::restarting; break;
  case exit_report::decision::backoff:
    c.state = child_state::backoff;
    c.due_ms = now_ms + r.delay.count();
    break;
  case exit_report::decision::failed:
    c.state = child_state::failed;
    c.reason = reason_text(r.reason);
    c.retry = r.retry;
    c.due_ms = now_ms + r.delay.count();
    break;
  case exit_report::decision::escalate: c.state = child_state::stopped; break;
  case exit_report::decision::none:
    c.state = child_state::stopped;
    c.reason = reason_text(r.reason); // not restarted: status says why
    break;
  }
}

void tree_index::readiness(indexed_child& c, const child_event& e) {
  if (e.what == child_event::kind::waiting) {
    c.state = child_state::starting;
    c.reason = "waiting for " + reason_text(e.reason);
  } else {
    c.state = child_state::running;
    c.reason.clear();
  }
}

std::vector<orphaned_child> tree_index::apply(const child_event& e, std::int64_t os_pid,
                                              std::int64_t now_ms,
                                              std::shared_ptr<const supervision::child_spec> spec) {
  std::lock_guard lock(mutex_);
  std::optional<handle> h = find(e);
  indexed_child* c = h ? &entries_.at(*h).child : nullptr;
  if (c != nullptr) {
    c->status_head.clear(); // whatever the event changes, the row shows it
  }
  switch (e.what) {
  case child_event::kind::started: {
    if (c == nullptr) {
      h = add(e);
      c = &entries_.at(*h).child;
    } else if (c->process) {
      by_pid_.erase(pid_key(*c->process));
    }
    c->process = e.process;
    c->supervisor = e.supervisor;
    by_pid_[pid_key(*e.process)] = *h;
    if (!e.dynamic) {
      // The count by path is that of all the children at the path: twins' children share
      // theirs, so an entry that ran counts its own restarts on, and a twin's new child
      // starts from none.
      slot& s = entries_.at(*h);
      const std::uint32_t starts = ++starts_[e.path];
      if (s.ran) {
        ++c->restarts;
      } else {
        c->restarts = by_path_.at(e.path).size() > 1 ? 0 : starts - 1;
      }
      s.ran = true;
    }
    c->os_pid = os_pid;
    c->type = e.type;
    c->state = child_state::running;
    c->started_ms = now_ms;
    c->reason.clear();
    c->retry = false;
    if (e.type == supervision::child_type::supervisor) {
      drop_stale_families(e.path, pid_key(*e.process));
    }
    if (spec) {
      c->spec = std::move(spec);
    } else if (e.spec != nullptr) {
      c->spec = std::make_shared<const supervision::child_spec>(*e.spec);
    }
    return {};
  }
  case child_event::kind::exited:
  case child_event::kind::stopped: {
    std::vector<orphaned_child> running;
    if (c != nullptr) {
      stop(*c, &running);
      // A sibling's restart stops it into restarting or backoff, as its event says.
      if (e.what == child_event::kind::stopped) {
        c->state = e.state;
        c->due_ms = ms_of(e.due);
      }
    }
    return running;
  }
  case child_event::kind::changed:
    if (c != nullptr) {
      c->state = e.state;
      c->due_ms = ms_of(e.due);
    }
    return {};
  case child_event::kind::updated:
    if (c != nullptr) {
      if (spec) {
        c->spec = std::move(spec);
      } else if (e.spec != nullptr) {
        c->spec = std::make_shared<const supervision::child_spec>(*e.spec);
      }
    }
    return {};
  case child_event::kind::decided:
    if (c == nullptr && !e.process && !e.dynamic) {
      c = &entries_.at(add(e)).child; // a static child that failed its first start
    }
    if (c != nullptr) {
      decided(*c, e.report, now_ms);
    }
    return {};
  case child_event::kind::removed:
    if (h) {
      erase(*h);
    }
    return {};
  case child_event::kind::gave_up: return {}; // its parent tells its exit
  case child_event::kind::waiting:
  case child_event::kind::ready:
    if (c != nullptr) {
      readiness(*c, e);
    }
    return {};
  }
  return {};
}

void tree_index::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  by_identity_.clear();
  by_pid_.clear();
  by_id_.clear();
  by_path_.clear();
  children_.clear(); // restart counts stay: the new tree's children carry them on
}

std::optional<indexed_child> tree_index::at(std::string_view path) const {
  std::lock_guard lock(mutex_);
  const slot* s = at_path(path);
  if (s == nullptr) {
    return std::nullopt;
  }
  return s->child;
}

std::optional<indexed_child> tree_index::of(pid p) const {
  std::lock_guard lock(mutex_);
  auto it = by_pid_.find(pid_key(p));
  if (it == by_pid_.end()) {
    return std::nullopt;
  }
  return entries_.at(it->second).child;
}

std::vector<indexed_child> tree_index::with_id(const std::string& id) const {
  std::lock_guard lock(mutex_);
  std::vector<indexed_child> out;
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    for (const auto& [h, _] : it->second) {
      out.push_back(entries_.at(h).child);
    }
  }
  return out;
}

std::optional<pid> tree_index::supervisor_at(std::string_view path) const {
  std::lock_guard lock(mutex_);
  const slot* s = at_path(path);
  if (s == nullptr) {
    return std::nullopt;
  }
  const indexed_child& c = s->child;
  if (c.type != supervision::child_type::supervisor) {
    return std::nullopt;
  }
  return c.process;
}

std::uint32_t tree_index::restarts(std::string_view path) const {
  std::lock_guard lock(mutex_);
  return view(*this).restarts(path);
}

void tree_index::forget(const std::string& path) {
  std::lock_guard lock(mutex_);
  starts_.erase(path);
  if (auto it = by_path_.find(path); it != by_path_.end()) {
    for (auto& [_, s] : it->second) {
      s->ran = false; // its next start is its first again
      s->child.restarts = 0;
      s->child.status_head.clear();
    }
  }
}

const indexed_child* tree_index::view::at(std::string_view path) const {
  const slot* s = index_.at_path(path);
  return s == nullptr ? nullptr : &s->child;
}

void tree_index::view::children(std::string_view sup_path,
                                const std::function<void(const indexed_child&)>& fn) const {
  each_child(sup_path, std::nullopt, fn);
}

void tree_index::view::children(std::string_view sup_path, std::optional<pid> sup,
                                const std::function<void(const indexed_child&)>& fn) const {
  each_child(sup_path, sup, fn);
}

std::size_t tree_index::view::count(std::string_view sup_path, std::optional<pid> sup) const {
  auto it = index_.children_.find(sup_path);
  if (it == index_.children_.end()) {
    return 0;
  }
  if (sup) {
    auto family = it->second.find(pid_key(*sup));
    return family == it->second.end() ? 0 : family->second.size();
  }
  std::size_t n = 0;
  for (const auto& [_, list] : it->second) {
    n += list.size();
  }
  return n;
}

std::uint32_t tree_index::view::restarts(std::string_view path) const {
  auto it = index_.starts_.find(path);
  return it == index_.starts_.end() || it->second == 0 ? 0 : it->second - 1;
}

void tree_index::read(const std::function<void(const view&)>& fn) const {
  std::lock_guard lock(mutex_);
  fn(view(*this));
}

std::size_t tree_index::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

} // namespace vigil::daemon
