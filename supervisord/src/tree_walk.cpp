// SPDX-License-Identifier: Apache-2.0
// The tree walk (tree_walk.hpp): each supervisor asked with which_children, every row
// matched with its spec, and children found in the walked tree by id, path or pid.
#include "tree_walk.hpp"

#include "vigil/supervision/client.hpp"
#include "vigil/term/text.hpp"

#include "protocol_vocabulary.hpp"

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_map>

namespace vigil::daemon {
namespace {

using supervision::child_info;
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

const supervisor_spec* nested(const child_spec* spec) {
  return spec != nullptr ? spec->supervisor.get() : nullptr;
}

error not_found(std::string what) {
  return error{make_error_code(errc::not_found), std::move(what)};
}

error invalid(std::string what) {
  return error{make_error_code(errc::invalid_argument), std::move(what)};
}

/// A supervisor's child specs by id, for supervisors with many children.
class spec_index {
public:
  explicit spec_index(const supervisor_spec* sup) : sup_(sup) {
    if (sup != nullptr && !simple(sup) && sup->children.size() > 16) {
      for (const auto& c : sup->children) {
        by_id_.emplace(c.id, &c);
      }
    }
  }

  [[nodiscard]] const child_spec* find(const std::string& id) const {
    if (by_id_.empty()) {
      return spec_in(sup_, id);
    }
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
  }

private:
  const supervisor_spec* sup_;
  std::unordered_map<std::string_view, const child_spec*> by_id_;
};

tree_node make_node(const tree_node& parent, const spec_index& specs, child_info row) {
  tree_node n;
  n.path = parent.path + "/" + row.id;
  n.spec = specs.find(row.id);
  n.id = std::move(row.id);
  n.process = row.process;
  n.type = row.type;
  n.state = row.state;
  n.reason = std::move(row.reason);
  n.retry = row.retry;
  n.wait = row.backoff_left;
  if (n.type == child_type::supervisor) {
    n.sup_spec = nested(n.spec);
  }
  return n;
}

task<result<void>> fill(context& self, tree_node& node) {
  auto rows = co_await supervision::which_children(self, *node.process, walk_call_timeout);
  if (!rows) {
    co_return rows.error();
  }
  node.children.reserve(rows->size());
  const spec_index specs(node.sup_spec);
  for (auto& row : *rows) {
    node.children.push_back(make_node(node, specs, std::move(row)));
  }
  for (auto& child : node.children) {
    if (child.type == child_type::supervisor && child.process) {
      // A nested supervisor that does not answer is shown without its children.
      (void)co_await fill(self, child);
    }
  }
  co_return result<void>{};
}

located from_node(const tree_node& node, const tree_node& parent) {
  located l;
  l.path = node.path;
  l.id = node.id;
  l.supervisor = *parent.process;
  l.parent_spec = parent.sup_spec;
  l.spec = node.spec;
  l.info =
      child_info{node.id, node.process, node.type, node.state, node.wait, node.reason, node.retry};
  return l;
}

/// Every (node, parent) in the tree for which `match` holds, depth first.
void collect(const tree_node& parent, const std::function<bool(const tree_node&)>& match,
             std::vector<located>& out) {
  for (const auto& child : parent.children) {
    if (match(child)) {
      out.push_back(from_node(child, parent));
    }
    collect(child, match, out);
  }
}

std::string list_paths(const std::vector<located>& found) {
  std::string out;
  for (const auto& l : found) {
    out += (out.empty() ? "" : ", ") + l.path;
  }
  return out;
}

/// Every child of the running tree for which `match` holds, depth first.
task<result<std::vector<located>>> find_all(context& self, pid root, const config::config_tree& cfg,
                                            std::function<bool(const tree_node&)> match) {
  auto tree = co_await walk_tree(self, root, cfg);
  if (!tree) {
    co_return tree.error();
  }
  std::vector<located> found;
  collect(*tree, match, found);
  co_return found;
}

/// The children that the config gives a running supervisor of the tree but the supervisor
/// no longer holds (temporary children that ended), with id `id`.
void collect_forgotten(const tree_node& n, const std::string& id, std::vector<located>& out) {
  if (n.type == child_type::supervisor && n.process && n.sup_spec != nullptr
      && n.sup_spec->how != supervision::strategy::simple_one_for_one) {
    for (const auto& spec : n.sup_spec->children) {
      bool held = std::any_of(n.children.begin(), n.children.end(),
                              [&spec](const tree_node& c) { return c.id == spec.id; });
      if (spec.id == id && !held) {
        out.push_back(located{n.path + "/" + id, id, *n.process, n.sup_spec, &spec, {}});
      }
    }
  }
  for (const auto& c : n.children) {
    collect_forgotten(c, id, out);
  }
}

task<result<located>> locate_id(context& self, pid root, const config::config_tree& cfg,
                                std::string id) {
  auto tree = co_await walk_tree(self, root, cfg);
  if (!tree) {
    co_return tree.error();
  }
  std::vector<located> found;
  collect(
      *tree, [&id](const tree_node& n) { return n.id == id; }, found);
  collect_forgotten(*tree, id, found); // found by id as by path (docs/protocol.md)
  if (found.empty()) {
    co_return not_found("no worker named '" + id + "'");
  }
  if (found.size() > 1) {
    co_return invalid("'" + id + "' is ambiguous: " + list_paths(found) + "; give a path");
  }
  co_return std::move(found.front());
}

/// The rows of `sup` with id `id`; dynamic children share their template's id.
std::vector<child_info> rows_with(std::vector<child_info>& rows, const std::string& id) {
  std::vector<child_info> out;
  for (auto& r : rows) {
    if (r.id == id) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

} // namespace

task<result<tree_node>> walk_tree(context& self, pid root, const config::config_tree& cfg) {
  tree_node top;
  top.path = "root";
  top.id = "root";
  top.process = root;
  top.type = child_type::supervisor;
  top.state = supervision::child_state::running;
  top.sup_spec = &cfg.root;
  auto filled = co_await fill(self, top);
  if (!filled) {
    co_return filled.error();
  }
  co_return std::move(top);
}

task<result<located>> locate(context& self, pid root, const config::config_tree& cfg,
                             std::string name) {
  auto ids = split_path(name);
  if (ids.empty()) {
    co_return invalid("'" + name + "' is the root supervisor; name one of its children");
  }
  if (ids.size() == 1 && name.find('/') == std::string::npos) {
    co_return co_await locate_id(self, root, cfg, std::move(ids.front()));
  }
  pid sup = root;
  const supervisor_spec* sup_spec = &cfg.root;
  std::string path = "root";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto rows = co_await supervision::which_children(self, sup, walk_call_timeout);
    if (!rows) {
      co_return rows.error();
    }
    auto matches = rows_with(*rows, ids[i]);
    const child_spec* spec = spec_in(sup_spec, ids[i]);
    path += "/" + ids[i];
    if (i + 1 == ids.size()) {
      if (matches.size() > 1) {
        co_return invalid("'" + path + "' names " + std::to_string(matches.size())
                          + " dynamic children; give a pid");
      }
      if (matches.empty() && spec == nullptr) {
        co_return not_found("no worker at '" + path + "'");
      }
      located l{path, ids[i], sup, sup_spec, spec, std::nullopt};
      if (!matches.empty()) {
        l.info = std::move(matches.front());
      }
      co_return l;
    }
    if (matches.size() != 1 || matches.front().type != child_type::supervisor
        || !matches.front().process) {
      co_return not_found("no running supervisor at '" + path + "'");
    }
    sup = *matches.front().process;
    sup_spec = nested(spec);
  }
  co_return not_found("no worker named '" + name + "'");
}

task<result<located>> locate_pid(context& self, pid root, const config::config_tree& cfg, pid p) {
  auto found =
      co_await find_all(self, root, cfg, [p](const tree_node& n) { return n.process == p; });
  if (!found) {
    co_return found.error();
  }
  if (found->empty()) {
    co_return not_found(to_string(term(p)) + " is not a child of the tree");
  }
  co_return std::move(found->front());
}

} // namespace vigil::daemon
