// SPDX-License-Identifier: Apache-2.0
// The checks beyond the file's own text (config.hpp's `checks`): plugins that load, worker
// kinds and their arguments, and the host's programs, users and groups. The hooks do the
// work; this file points each problem at the option it concerns.
#include "reader.hpp"

namespace vigil::config::detail {
namespace {

const key_info* valid_key(const present_keys& keys, std::string_view name) {
  auto it = keys.find(name);
  return it == keys.end() || !it->second.valid ? nullptr : &it->second;
}

} // namespace

void reader::load_plugins(const present_keys& keys, const daemon_options& daemon) {
  const key_info* plugins = valid_key(keys, "plugins");
  if (with_ == nullptr || !with_->load_plugin || plugins == nullptr) {
    return;
  }
  const auto& array = *plugins->node->as_array();
  for (std::size_t i = 0; i < daemon.plugins.size() && i < array.size(); ++i) {
    std::string problem = with_->load_plugin(daemon.plugins[i]);
    if (!problem.empty()) {
      fail(array[i].source(), "daemon.plugins[" + std::to_string(i) + "]", std::move(problem));
    }
  }
}

void reader::check_kind(const child_read& child) {
  const key_info* kind = valid_key(child.keys, "kind");
  const bool has_args = child.keys.contains("args");
  const key_info* args = valid_key(child.keys, "args");
  if (with_ == nullptr || !with_->check_kind || kind == nullptr || (has_args && args == nullptr)) {
    return;
  }
  for (auto& problem : with_->check_kind(child.spec.kind, child.spec.args)) {
    if (problem.arg.empty()) {
      fail(kind->value, child.path + ".kind", std::move(problem.message));
      continue;
    }
    std::string option = child.path + ".args." + problem.arg;
    const toml::node* written =
        args != nullptr ? args->node->as_table()->get(problem.arg) : nullptr;
    if (written != nullptr) {
      fail(written->source(), std::move(option), std::move(problem.message));
    } else {
      // Not written (a required argument): point at the table, or at the kind without one.
      fail(args != nullptr ? args->value : kind->value, std::move(option),
           std::move(problem.message));
    }
  }
}

void reader::check_host(const child_read& child) {
  if (with_ == nullptr) {
    return;
  }
  const severity level = with_->host_severity;
  if (const key_info* command = valid_key(child.keys, "command");
      command != nullptr && with_->check_program) {
    std::string problem = with_->check_program(child.spec);
    if (!problem.empty()) {
      const auto& argv = *command->node->as_array();
      fail(argv.empty() ? command->value : where(argv[0].source()), child.path + ".command",
           std::move(problem), level);
    }
  }
  if (const key_info* user = valid_key(child.keys, "user"); user != nullptr && with_->check_user) {
    std::string problem = with_->check_user(child.spec.os.user, !child.spec.os.group.empty());
    if (!problem.empty()) {
      fail(user->value, child.path + ".user", std::move(problem), level);
    }
  }
  if (const key_info* group = valid_key(child.keys, "group");
      group != nullptr && with_->check_group) {
    std::string problem = with_->check_group(child.spec.os.group);
    if (!problem.empty()) {
      fail(group->value, child.path + ".group", std::move(problem), level);
    }
  }
}

} // namespace vigil::config::detail
