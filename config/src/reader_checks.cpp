// SPDX-License-Identifier: Apache-2.0
// The rules that span several options: they run once a table, or a supervisor's whole list of
// children, has been read.
#include "vigil/supervision/spec_names.hpp"

#include "reader.hpp"

namespace vigil::config::detail {
namespace {

using supervision::auto_shutdown;
using supervision::child_type;
using supervision::restart_type;
using supervision::strategy;

const key_info* find_key(const present_keys& keys, std::string_view name) {
  auto it = keys.find(name);
  return it == keys.end() ? nullptr : &it->second;
}

} // namespace

void reader::check_child(const toml::table& table, child_read& child) {
  const auto& spec = child.spec;
  if (find_key(child.keys, "id") == nullptr) {
    fail(table.source(), child.path + ".id",
         "missing: every child needs an id, unique among its siblings");
  }
  if (spec.significant && spec.restart == restart_type::permanent) {
    fail(find_key(child.keys, "significant")->value, child.path + ".significant",
         "expected a transient or temporary child, got a permanent one (a permanent child is "
         "always restarted, so its exit cannot end the supervisor)");
  }
  const key_info* type = find_key(child.keys, "type");
  if (spec.type == child_type::worker && (type == nullptr || type->valid)) {
    check_worker(table, child);
  }
  check_readiness(child);
}

void reader::check_readiness(child_read& child) {
  using supervision::probe_kind;
  const auto& spec = child.spec;
  const bool os = spec.type == child_type::worker && spec.mode != supervision::modes::inprocess;
  if (const key_info* ready = find_key(child.keys, "ready"); ready != nullptr && ready->valid) {
    const probe_kind kind = spec.ready.kind;
    if (spec.type == child_type::supervisor && kind != probe_kind::started) {
      fail(ready->value, child.path + ".ready",
           "only applies to workers: a supervisor is ready once its children are");
    } else if (kind == probe_kind::log && spec.mode != supervision::modes::command) {
      fail(ready->value, child.path + ".ready",
           "a log check only applies to a command (whose output vigild reads)");
    } else if (kind != probe_kind::started && kind != probe_kind::notify && !os) {
      fail(ready->value, child.path + ".ready",
           "a tcp, http, exec or log check only applies to an OS child (command, or mode = "
           "\"process\"); an in-process worker says it is ready with ready = \"notify\"");
    }
  }
  if (const key_info* health = find_key(child.keys, "health");
      health != nullptr && health->valid && !os) {
    fail(health->value, child.path + ".health",
         "only applies to an OS child (command, or mode = \"process\")");
  }
  if (const key_info* watchdog = find_key(child.keys, "watchdog");
      watchdog != nullptr && spec.ready.kind != supervision::probe_kind::notify) {
    fail(watchdog->value, child.path + ".watchdog",
         "only applies with ready = \"notify\" (the child sends WATCHDOG=1)");
  }
}

void reader::check_worker(const toml::table& table, child_read& child) {
  auto& spec = child.spec;
  const key_info* kind = find_key(child.keys, "kind");
  const key_info* command = find_key(child.keys, "command");
  if (kind != nullptr && command != nullptr) {
    fail(command->key, child.path + ".command",
         "a worker has either kind or command, not both (kind is set at line "
             + std::to_string(kind->key.line) + ")");
    return;
  }
  if (kind == nullptr && command == nullptr) {
    fail(table.source(), child.path,
         "missing: a worker needs kind (a worker kind such as \"echo\") or command (a "
         "program to run)");
    return;
  }
  if (command != nullptr) {
    spec.mode = supervision::modes::command;
    if (const key_info* args = find_key(child.keys, "args")) {
      fail(args->key, child.path + ".args",
           "only applies with kind: a command's arguments belong in command");
    }
    if (const key_info* mode = find_key(child.keys, "mode")) {
      fail(mode->key, child.path + ".mode",
           "only applies with kind: a command always runs as an OS process");
    }
    check_host(child);
    return;
  }
  if (find_key(child.keys, "args") == nullptr) {
    spec.args = term::map(std::span<const std::pair<term, term>>{});
  }
  check_kind(child);
  if (spec.mode != supervision::modes::inprocess) {
    check_host(child);
    return;
  }
  for (const auto& [name, at] : child.keys) {
    const option* o = find_option(section::process, name);
    if (o != nullptr) {
      fail(at.key, child.path + "." + name,
           "only applies to a worker run as an OS process: set mode = \"process\", or use "
           "command");
    }
  }
}

void reader::check_supervisor(const toml::node& table, const std::string& path,
                              const present_keys& keys, const supervision::supervisor_spec& spec,
                              const std::vector<child_read>& children) {
  check_unique_ids(children);
  check_significance(path, keys, spec, children);
  const bool simple = spec.how == strategy::simple_one_for_one;
  if (simple && children.size() != 1) {
    const key_info* at = find_key(keys, "children");
    if (at == nullptr) {
      at = find_key(keys, "strategy");
    }
    fail(at != nullptr ? at->value : where(table.source()), path + ".children",
         "expected exactly one child with strategy = \"simple_one_for_one\" (the template of "
         "its dynamic children), got "
             + std::to_string(children.size()));
  }
  if (!simple && spec.max_children != 0) {
    fail(find_key(keys, "max_children")->value, path + ".max_children",
         "only applies with strategy = \"simple_one_for_one\"");
  }
}

void reader::check_unique_ids(const std::vector<child_read>& children) {
  std::map<std::string, const child_read*, std::less<>> seen;
  for (const auto& child : children) {
    const key_info* id = find_key(child.keys, "id");
    if (id == nullptr || !id->valid) {
      continue;
    }
    auto [it, inserted] = seen.emplace(child.spec.id, &child);
    if (!inserted) {
      fail(id->value, child.path + ".id",
           "duplicate id \"" + child.spec.id + "\", already used by " + it->second->path
               + " at line " + std::to_string(find_key(it->second->keys, "id")->value.line));
    }
  }
}

void reader::check_significance(const std::string& path, const present_keys& keys,
                                const supervision::supervisor_spec& spec,
                                const std::vector<child_read>& children) {
  bool any_significant = false;
  for (const auto& child : children) {
    if (!child.spec.significant) {
      continue;
    }
    any_significant = true;
    if (spec.auto_shutdown == auto_shutdown::never) {
      fail(find_key(child.keys, "significant")->value, child.path + ".significant",
           "needs " + path
               + ".auto_shutdown to be \"any_significant\" or \"all_significant\"; with "
                 "\"never\" a significant child means nothing");
    }
  }
  if (spec.auto_shutdown != auto_shutdown::never && !any_significant) {
    fail(find_key(keys, "auto_shutdown")->value, path + ".auto_shutdown",
         "expected at least one child with significant = true, got none: nothing could "
         "shut the supervisor down");
  }
}

} // namespace vigil::config::detail
