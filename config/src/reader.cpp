// SPDX-License-Identifier: Apache-2.0
// The reader's walk of a document: the daemon table, the root supervisor and each child read
// key by key against the option table (misplaced and misspelt keys reported, near names
// suggested), with a child's backoff and a nested supervisor read in place.
#include "reader.hpp"

#include "vigil/common/duration.hpp"
#include "vigil/common/suggest.hpp"

#include "decode.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>

namespace vigil::config::detail {
namespace {

std::string_view misplaced_phrase(section s) {
  switch (s) {
  case section::daemon: return "belongs in the [daemon] table";
  case section::observer: return "belongs in the [observer] table";
  case section::hook: return "belongs in a [[hook]] table";
  case section::supervisor:
    return "only applies to a supervisor: [supervisor], or a child with type = \"supervisor\"";
  case section::child: return "only applies to an entry of children";
  case section::backoff: return "belongs inside a child's backoff = { ... }";
  case section::worker:
  case section::process: return "only applies to a worker child, not to type = \"supervisor\"";
  }
  return "is not valid here";
}

const option* lookup(std::string_view name, std::initializer_list<section> allowed) {
  for (section s : allowed) {
    if (const option* o = find_option(s, name)) {
      return o;
    }
  }
  return nullptr;
}

const option* lookup_anywhere(std::string_view name) {
  // A hook's `command` and `timeout` share their names with no table but the hook's:
  // a misplaced `command` is a child's first.
  const option* hook = nullptr;
  for (const auto& o : option_table()) {
    if (o.info.name == name) {
      if (o.info.where != section::hook) {
        return &o;
      }
      hook = hook != nullptr ? hook : &o;
    }
  }
  return hook;
}

bool allowed_in(section s, std::initializer_list<section> allowed) {
  return std::find(allowed.begin(), allowed.end(), s) != allowed.end();
}

// The names allowed here first, then every other one, so that a near miss of an option that
// belongs elsewhere is still suggested.
std::vector<std::string_view> candidate_names(std::initializer_list<section> allowed) {
  std::vector<std::string_view> names;
  for (const auto& o : option_table()) {
    if (allowed_in(o.info.where, allowed)) {
      names.push_back(o.info.name);
    }
  }
  for (const auto& o : option_table()) {
    if (!allowed_in(o.info.where, allowed)) {
      names.push_back(o.info.name);
    }
  }
  return names;
}

bool is_array_of_tables(const toml::node& node) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    return false;
  }
  return std::all_of(array->begin(), array->end(),
                     [](const toml::node& item) { return item.is_table(); });
}

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

} // namespace

supervision::source_location reader::where(const toml::source_region& region) const {
  return {file_, region.begin.line, region.begin.column};
}

void reader::fail(const toml::source_region& at, std::string option, std::string message,
                  severity level) {
  fail(where(at), std::move(option), std::move(message), level);
}

void reader::fail(const supervision::source_location& at, std::string option, std::string message,
                  severity level) {
  errors_.push_back({at, std::move(option), std::move(message), level});
}

config_error_list reader::take_errors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  return std::move(errors_);
}

config_tree reader::read(const toml::table& doc) {
  config_tree tree;
  tree.root.name = "root";
  tree.root.where = {file_, 1, 1};
  // The root's defaults (docs/supervision.md, "Failure domains"): one broken program never
  // takes the others down, and crash loops back off.
  tree.root.on_max_restarts = supervision::max_restarts_action::hold;
  tree.root.default_backoff = crash_backoff();
  // [daemon] first wherever it is written: its plugins register kinds that children use.
  if (const toml::node* daemon = doc.get("daemon")) {
    read_daemon(*daemon, tree.daemon);
  }
  for (auto&& [key, node] : doc) {
    if (key.str() == "daemon") {
      continue;
    }
    if (key.str() == "observer") {
      read_observer(node, tree.observer);
    } else if (key.str() == "hook") {
      read_hooks(node, tree.hooks);
    } else if (key.str() == "supervisor") {
      if (!node.is_table()) {
        fail(node.source(), "supervisor", "expected a table, got " + describe_value(node));
        continue;
      }
      tree.root.where = where(node.source());
      targets t;
      t.supervisor = &tree.root;
      auto keys = read_table(*node.as_table(), "supervisor", {section::supervisor}, t);
      read_supervisor_body(node, "supervisor", keys, tree.root);
    } else {
      report_unknown(key, "", {});
    }
  }
  return tree;
}

present_keys reader::read_table(const toml::table& table, const std::string& path,
                                std::initializer_list<section> allowed, targets& t) {
  present_keys keys;
  for (auto&& [key, node] : table) {
    const option* o = lookup(key.str(), allowed);
    if (o == nullptr) {
      report_unknown(key, path, allowed);
      continue;
    }
    std::string option_path = join(path, key.str());
    bool valid = true;
    if (o->info.type == option_type::table || o->info.type == option_type::table_array) {
      valid = o->info.type == option_type::table ? node.is_table() : is_array_of_tables(node);
      if (!valid) {
        fail(node.source(), option_path,
             "expected " + expected_phrase(o->info) + ", got " + describe_value(node));
      }
    } else {
      valid = read_value(*o, node, option_path, t);
    }
    keys.emplace(std::string(key.str()),
                 key_info{&node, valid, where(key.source()), where(node.source())});
  }
  return keys;
}

bool reader::read_value(const option& o, const toml::node& node, const std::string& path,
                        targets& t) {
  auto decoded = decode(node, o.info);
  if (!decoded) {
    const auto& failure = decoded.error();
    const toml::node& at = failure.at != nullptr ? *failure.at : node;
    fail(at.source(), path + failure.subpath, failure.message);
    return false;
  }
  if (o.validate != nullptr) {
    std::string expected = o.validate(*decoded);
    if (!expected.empty()) {
      fail(node.source(), path, "expected " + expected + ", got " + describe_value(node));
      return false;
    }
  }
  o.apply(*decoded, t);
  return true;
}

void reader::report_unknown(const toml::key& key, const std::string& path,
                            std::initializer_list<section> allowed) {
  std::string option_path = join(path, key.str());
  if (const option* o = lookup_anywhere(key.str())) {
    fail(key.source(), option_path, std::string(misplaced_phrase(o->info.where)));
    return;
  }
  std::vector<std::string_view> names;
  if (path.empty()) {
    names = {"daemon", "observer", "hook", "supervisor"};
  } else {
    names = candidate_names(allowed);
  }
  std::string message = path.empty() ? "unknown table" : "unknown option";
  if (auto guess = closest(key.str(), names)) {
    message += " (did you mean \"" + std::string(*guess) + "\"?)";
  }
  fail(key.source(), option_path, message);
}

void reader::read_daemon(const toml::node& node, daemon_options& daemon) {
  if (!node.is_table()) {
    fail(node.source(), "daemon", "expected a table, got " + describe_value(node));
    return;
  }
  targets t;
  t.daemon = &daemon;
  auto keys = read_table(*node.as_table(), "daemon", {section::daemon}, t);
  namespace fs = std::filesystem;
  const fs::path base = fs::path(file_).parent_path();
  for (auto& plugin : daemon.plugins) {
    fs::path p(plugin);
    if (p.is_relative() && !base.empty()) {
      plugin = (base / p).lexically_normal().string();
    }
  }
  load_plugins(keys, daemon);
}

void reader::read_supervisor_body(const toml::node& table, const std::string& path,
                                  const present_keys& keys, supervision::supervisor_spec& spec) {
  std::vector<child_read> children;
  if (auto it = keys.find("children"); it != keys.end() && it->second.valid) {
    children = read_children(*it->second.node, path + ".children");
  }
  for (const auto& child : children) {
    spec.children.push_back(child.spec);
  }
  check_supervisor(table, path, keys, spec, children);
}

std::vector<child_read> reader::read_children(const toml::node& node, const std::string& path) {
  std::vector<child_read> children;
  const auto& array = *node.as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    children.push_back(read_child(*array[i].as_table(), path + "[" + std::to_string(i) + "]"));
  }
  return children;
}

child_read reader::read_child(const toml::table& table, const std::string& path) {
  child_read out;
  out.path = path;
  out.spec.where = where(table.source());
  const toml::node* type = table.get("type");
  const bool is_supervisor =
      type != nullptr && type->is_string() && type->as_string()->get() == "supervisor";
  supervision::supervisor_spec nested;
  nested.default_backoff = crash_backoff(); // on_max_restarts stays escalate, as in OTP
  targets t;
  t.child = &out.spec;
  t.supervisor = &nested;
  if (is_supervisor) {
    out.keys = read_table(table, path, {section::child, section::supervisor}, t);
  } else {
    out.keys = read_table(table, path, {section::child, section::worker, section::process}, t);
  }
  if (auto it = out.keys.find("backoff"); it != out.keys.end() && it->second.valid) {
    read_backoff(it->second, path + ".backoff", out.spec);
  }
  if (is_supervisor) {
    nested.name = out.spec.id;
    nested.where = out.spec.where;
    read_supervisor_body(table, path, out.keys, nested);
    if (!out.keys.contains("shutdown")) {
      out.spec.shutdown = supervision::shutdown_policy::infinity();
    }
    out.spec.supervisor = std::make_shared<const supervision::supervisor_spec>(std::move(nested));
  }
  check_child(table, out);
  return out;
}

void reader::read_backoff(const key_info& at, const std::string& path,
                          supervision::child_spec& spec) {
  supervision::backoff_policy policy;
  targets t;
  t.backoff = &policy;
  auto keys = read_table(*at.node->as_table(), path, {section::backoff}, t);
  if (policy.max < policy.initial) {
    auto it = keys.find("max");
    fail(it != keys.end() ? it->second.value : at.value, path + ".max",
         "expected a duration of at least initial (\"" + format_duration(policy.initial)
             + "\"), got \"" + format_duration(policy.max) + "\"");
  }
  spec.backoff = policy;
}

} // namespace vigil::config::detail
