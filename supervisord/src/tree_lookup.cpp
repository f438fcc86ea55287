// SPDX-License-Identifier: Apache-2.0
// Children found by name or pid (tree_lookup.hpp): the index says what runs, the config what
// each child is. A bare id is found through the index's ids and a table of the config's ids,
// built once per config: neither walks the tree.
#include "tree_lookup.hpp"

#include "vigil/config/reload.hpp"
#include "vigil/term/text.hpp"

#include "protocol_vocabulary.hpp"
#include "state.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace vigil::daemon {
namespace {

using supervision::child_spec;
using supervision::child_type;
using supervision::strategy;
using supervision::supervisor_spec;

bool simple(const supervisor_spec* s) {
  return s != nullptr && s->how == strategy::simple_one_for_one;
}

const child_spec* spec_in(const supervisor_spec* sup, const std::string& id) {
  if (sup == nullptr) {
    return nullptr;
  }
  if (simple(sup)) {
    return sup->children.empty() ? nullptr : &sup->children.front();
  }
  for (const auto& c : sup->children) {
    if (c.id == id) {
      return &c;
    }
  }
  return nullptr;
}

error not_found(std::string what) {
  return error{make_error_code(errc::not_found), std::move(what)};
}

error invalid(std::string what) {
  return error{make_error_code(errc::invalid_argument), std::move(what)};
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view parent_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

/// A static child of the config: its path, its spec and its supervisor's.
struct config_child {
  std::string path;
  const child_spec* spec = nullptr;
  const supervisor_spec* parent = nullptr;
};

/// The static children of a config by id, built once per config.
class config_ids {
public:
  explicit config_ids(std::shared_ptr<const config::config_tree> cfg) : cfg_(std::move(cfg)) {
    add(cfg_->root, "root");
  }

  [[nodiscard]] const config::config_tree* config() const { return cfg_.get(); }

  [[nodiscard]] const std::vector<config_child>* find(const std::string& id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &it->second;
  }

  /// The spec at `path` (a dynamic supervisor's template at its children's path), shared
  /// with the config.
  [[nodiscard]] std::shared_ptr<const child_spec> at(const std::string& path) const {
    auto it = by_path_.find(path);
    if (it == by_path_.end()) {
      return nullptr;
    }
    return {cfg_, it->second};
  }

private:
  void add(const supervisor_spec& sup, const std::string& path) {
    for (const auto& c : sup.children) {
      std::string p = path + "/" + c.id;
      by_path_.emplace(p, &c);
      if (simple(&sup)) {
        return; // dynamic children run or are gone: the index has them
      }
      by_id_[c.id].push_back(config_child{p, &c, &sup});
      if (c.supervisor) {
        add(*c.supervisor, p);
      }
    }
  }

  std::shared_ptr<const config::config_tree> cfg_;
  std::unordered_map<std::string, std::vector<config_child>> by_id_;
  std::unordered_map<std::string, const child_spec*> by_path_;
};

/// The id table of the running config (a reload makes a new one on first use).
std::shared_ptr<const config_ids> ids_of(const daemon_state& st) {
  static std::mutex mutex;
  static std::shared_ptr<const config_ids> cached;
  auto cfg = st.config();
  std::lock_guard lock(mutex);
  if (!cached || cached->config() != cfg.get()) {
    cached = std::make_shared<const config_ids>(cfg);
  }
  return cached;
}

/// The supervisor of an indexed child: the one that started it (it holds the child while
/// the index does), else the running supervisor at its parent's path.
std::optional<pid> supervisor_of(const daemon_state& st, const indexed_child& c) {
  if (c.supervisor != pid{}) {
    return c.supervisor;
  }
  return running_supervisor(st, parent_of(c.path));
}

std::string list_paths(const std::vector<located>& found) {
  std::string out;
  for (const auto& l : found) {
    out += (out.empty() ? "" : ", ") + l.path;
  }
  return out;
}

result<located> locate_id(const daemon_state& st, const config::config_tree& cfg,
                          const std::string& id) {
  std::vector<located> found;
  const std::int64_t now = steady_ms();
  for (const auto& c : st.index.with_id(id)) {
    std::string_view parent = parent_of(c.path);
    auto sup = supervisor_of(st, c);
    if (!sup) {
      continue; // its supervisor is gone, and it with it
    }
    const supervisor_spec* parent_spec = config_supervisor(cfg, parent);
    found.push_back(
        located{c.path, c.id, *sup, parent_spec, spec_in(parent_spec, c.id), c.info(now)});
  }
  // The config's children that a running supervisor no longer holds (temporary children
  // that ended) are found by id as by path (docs/protocol.md).
  auto ids = ids_of(st);
  if (const auto* named = ids->find(id); named != nullptr && ids->config() == &cfg) {
    for (const auto& c : *named) {
      if (st.index.at(c.path)) {
        continue;
      }
      if (auto sup = running_supervisor(st, parent_of(c.path))) {
        found.push_back(located{c.path, id, *sup, c.parent, c.spec, {}});
      }
    }
  }
  if (found.empty()) {
    return not_found("no worker named '" + id + "'");
  }
  if (found.size() > 1) {
    return invalid("'" + id + "' is ambiguous: " + list_paths(found) + "; give a path");
  }
  return std::move(found.front());
}

} // namespace

std::optional<pid> running_supervisor(const daemon_state& st, std::string_view path) {
  if (path == "root") {
    pid root = st.root();
    return root == pid{} ? std::nullopt : std::optional<pid>(root);
  }
  return st.index.supervisor_at(path);
}

const supervisor_spec* config_supervisor(const config::config_tree& cfg, std::string_view path) {
  auto ids = split_path(path);
  if (ids.empty()) {
    return &cfg.root;
  }
  const auto* c = config::find_child(cfg.root, ids);
  return c != nullptr ? c->supervisor.get() : nullptr;
}

std::shared_ptr<const child_spec> spec_for(const daemon_state& st, const std::string& path,
                                           const child_spec& started, bool dynamic) {
  auto configured = ids_of(st)->at(path);
  if (configured && (dynamic || *configured == started)) {
    return configured;
  }
  return std::make_shared<const child_spec>(started);
}

result<located> locate(const daemon_state& st, const config::config_tree& cfg,
                       const std::string& name) {
  auto ids = split_path(name);
  if (ids.empty()) {
    return invalid("'" + name + "' is the root supervisor; name one of its children");
  }
  if (ids.size() == 1 && name.find('/') == std::string::npos) {
    return locate_id(st, cfg, ids.front());
  }
  // Each supervisor on the way must run, as a walk from the root would find it.
  std::string path = "root";
  for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
    path += "/" + ids[i];
    auto c = st.index.at(path);
    if (!c || c->type != child_type::supervisor || !c->process) {
      return not_found("no running supervisor at '" + path + "'");
    }
  }
  std::string parent = path;
  auto sup = running_supervisor(st, parent);
  if (!sup) {
    return not_found("no running supervisor at '" + parent + "'");
  }
  const std::string& id = ids.back();
  path += "/" + id;
  const supervisor_spec* parent_spec = config_supervisor(cfg, parent);
  const child_spec* spec = spec_in(parent_spec, id);
  located l{path, id, *sup, parent_spec, spec, std::nullopt};
  const std::int64_t now = steady_ms();
  if (simple(parent_spec)) {
    // Dynamic children share their template's path: one of them is found, many are not.
    std::size_t matches = 0;
    st.index.read([&](const tree_index::view& v) {
      v.children(parent, [&](const indexed_child& c) {
        if (c.id == id) {
          ++matches;
          l.info = c.info(now);
        }
      });
    });
    if (matches > 1) {
      return invalid("'" + path + "' names " + std::to_string(matches)
                     + " dynamic children; give a pid");
    }
  } else if (auto c = st.index.at(path)) {
    l.info = c->info(now);
  }
  if (!l.info && spec == nullptr) {
    return not_found("no worker at '" + path + "'");
  }
  return l;
}

result<located> locate_pid(const daemon_state& st, const config::config_tree& cfg, pid p) {
  auto c = st.index.of(p);
  std::optional<pid> sup;
  if (c) {
    sup = supervisor_of(st, *c);
  }
  if (!c || !sup) {
    return not_found(to_string(term(p)) + " is not a child of the tree");
  }
  std::string_view parent = parent_of(c->path);
  const supervisor_spec* parent_spec = config_supervisor(cfg, parent);
  return located{
      c->path, c->id, *sup, parent_spec, spec_in(parent_spec, c->id), c->info(steady_ms())};
}

} // namespace vigil::daemon
