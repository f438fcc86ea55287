// SPDX-License-Identifier: Apache-2.0
// A reload (live_reload.hpp): the plan carried out step by step on the running tree, each
// supervisor found from the root; or the whole tree replaced; and the plan as JSON.
#include "live_reload.hpp"

#include "vigil/os/service.hpp"
#include "vigil/supervision/client.hpp"
#include "vigil/supervision/readiness.hpp"
#include "vigil/supervision/supervisor.hpp"

#include "config_checks.hpp"
#include "event_hub.hpp"
#include "event_store.hpp"
#include "json_util.hpp"
#include "logging.hpp"
#include "notify.hpp"
#include "outbox.hpp"
#include "state.hpp"
#include "tree_lookup.hpp"
#include "trust_checks.hpp"

#include <spdlog/spdlog.h>

#include <set>
#include <string_view>

namespace vigil::daemon {
namespace {

using config::plan_step;
using supervision::child_type;

constexpr timeout step_timeout{30000};

/// Lets the next reload run when this one ends, however it ends.
struct reload_guard {
  std::atomic<bool>& flag;

  explicit reload_guard(std::atomic<bool>& f) noexcept : flag(f) {}

  reload_guard(const reload_guard&) = delete;
  reload_guard& operator=(const reload_guard&) = delete;

  ~reload_guard() { flag.store(false); }
};

bool replaces_tree(const config::reload_plan& plan) {
  return !plan.changes.empty() && plan.changes.front().path.empty()
         && plan.changes.front().what == config::action::restart;
}

/// The running supervisor at `ids` (empty for the root): a lookup in the index.
std::optional<pid> supervisor_at(const daemon_state& st, const config::child_path& ids) {
  return running_supervisor(st, config::path_text(ids));
}

bool missing(const error& e) {
  return e.code == make_error_code(errc::not_found);
}

bool missing(const result<void>& r) {
  return !r && missing(r.error());
}

std::string failed(std::string_view verb, const config::child_path& path, const error& e) {
  return std::string(verb) + " " + config::path_text(path) + ": " + e.message();
}

/// A stop step. A child the new config keeps (a restart) is only terminated: its entry
/// keeps its place in the start order until its start step replaces its spec.
task<std::optional<std::string>> stop_step(context& self, const daemon_state& st,
                                           const plan_step& step, bool kept) {
  config::child_path parent(step.path.begin(), step.path.end() - 1);
  auto sup = supervisor_at(st, parent);
  if (!sup) {
    co_return std::nullopt; // its supervisor went first, and took it along
  }
  const std::string& id = step.path.back();
  auto stopped = co_await supervision::terminate_child(self, *sup, id, step_timeout);
  if (!stopped && !missing(stopped)) {
    co_return failed("stop", step.path, stopped.error());
  }
  if (kept) {
    co_return std::nullopt;
  }
  auto deleted = co_await supervision::delete_child(self, *sup, id, step_timeout);
  if (!deleted && !missing(deleted)) {
    co_return failed("stop", step.path, deleted.error());
  }
  co_return std::nullopt;
}

/// Where a new child `path` goes in its supervisor: before the next sibling of the new
/// config that `sup` already has, so rest_for_one, one_for_all and the stop order see the
/// file's order; empty (after all) when there is none.
std::string next_sibling(const daemon_state& st, const config::config_tree& next,
                         const config::child_path& path) {
  config::child_path parent(path.begin(), path.end() - 1);
  const supervision::supervisor_spec* flags = &next.root;
  if (!parent.empty()) {
    const auto* spec = config::find_child(next.root, parent);
    flags = spec != nullptr ? spec->supervisor.get() : nullptr;
  }
  if (flags == nullptr || flags->how == supervision::strategy::simple_one_for_one) {
    return {};
  }
  const std::string parent_path = config::path_text(parent) + "/";
  bool after = false;
  for (const auto& c : flags->children) {
    if (after && st.index.at(parent_path + c.id)) {
      return c.id; // the supervisor holds it (the index has what it holds)
    }
    after = after || c.id == path.back();
  }
  return {};
}

/// A start step: a new child is added at its place in the config's order, a kept one gets
/// its new spec in place and starts from it (replace_child).
task<std::optional<std::string>> start_step(context& self, const daemon_state& st,
                                            const config::config_tree& next, const plan_step& step,
                                            bool kept) {
  const auto* spec = config::find_child(next.root, step.path);
  config::child_path parent(step.path.begin(), step.path.end() - 1);
  auto sup = supervisor_at(st, parent);
  if (spec == nullptr || !sup) {
    co_return "start " + config::path_text(step.path) + ": its supervisor is not running";
  }
  if (!kept) {
    auto before = next_sibling(st, next, step.path);
    auto started = co_await supervision::start_child(
        self, *sup, *spec, before, supervision::start_call_timeout(*spec, step_timeout));
    if (!started) {
      co_return failed("start", step.path, started.error());
    }
    co_return std::nullopt;
  }
  auto replaced = co_await supervision::replace_child(
      self, *sup, *spec, supervision::start_call_timeout(*spec, step_timeout));
  if (!replaced && missing(replaced.error())) {
    // Gone since its stop step (a temporary child is forgotten when terminated): add it.
    auto before = next_sibling(st, next, step.path);
    replaced = co_await supervision::start_child(
        self, *sup, *spec, before, supervision::start_call_timeout(*spec, step_timeout));
  }
  if (!replaced) {
    co_return failed("start", step.path, replaced.error());
  }
  co_return std::nullopt;
}

/// An update step: the child's new spec replaces the old one in its supervisor, and a
/// nested supervisor (or the root) takes its new flags; no process restarts.
task<std::optional<std::string>> update_step(context& self, const daemon_state& st,
                                             const config::config_tree& next,
                                             const plan_step& step) {
  const supervision::supervisor_spec* flags = &next.root;
  if (!step.path.empty()) {
    const auto* spec = config::find_child(next.root, step.path);
    config::child_path parent(step.path.begin(), step.path.end() - 1);
    auto sup = supervisor_at(st, parent);
    if (spec == nullptr || !sup) {
      co_return "update " + config::path_text(step.path) + ": its supervisor is not running";
    }
    auto updated = co_await supervision::update_child(self, *sup, *spec, step_timeout);
    if (!updated) {
      co_return failed("update", step.path, updated.error());
    }
    flags = spec->supervisor.get();
  }
  if (flags == nullptr) {
    co_return std::nullopt; // a worker
  }
  auto sup = supervisor_at(st, step.path);
  if (!sup) {
    co_return std::nullopt; // stopped, or restarting: it will start from its new spec
  }
  auto updated = co_await supervision::update_flags(self, *sup, *flags, step_timeout);
  if (!updated) {
    co_return failed("update", step.path, updated.error());
  }
  co_return std::nullopt;
}

/// The paths the plan restarts (kept children: stopped and started again in place), and
/// those it updates.
struct plan_paths {
  std::set<std::string> restarted;
  std::set<std::string> updated;

  explicit plan_paths(const config::reload_plan& plan) {
    for (const auto& c : plan.changes) {
      if (c.what == config::action::restart) {
        restarted.insert(config::path_text(c.path));
      } else if (c.what == config::action::update) {
        updated.insert(config::path_text(c.path));
      }
    }
  }
};

/// The nested supervisors that the plan leaves alone but whose subtree changed: their parent
/// gets their new spec, so that a later restart of one starts the new subtree, not the one
/// of the config it was first started from. A restarted one started from its new spec; an
/// updated one got it from its update step.
void changed_subtrees(const supervision::supervisor_spec& old,
                      const supervision::supervisor_spec& next, const config::child_path& path,
                      const plan_paths& paths, std::vector<config::child_path>& out) {
  for (const auto& c : next.children) {
    config::child_path here = path;
    here.push_back(c.id);
    const auto* before = config::find_child(old, {c.id});
    std::string text = config::path_text(here);
    if (before == nullptr || !c.supervisor || !before->supervisor || paths.restarted.contains(text)
        || *before->supervisor == *c.supervisor) {
      continue;
    }
    if (!paths.updated.contains(text)) {
      out.push_back(here);
    }
    changed_subtrees(*before->supervisor, *c.supervisor, here, paths, out);
  }
}

task<std::optional<std::string>> sync_subtree(context& self, const daemon_state& st,
                                              const config::config_tree& next,
                                              const config::child_path& path) {
  const auto* spec = config::find_child(next.root, path);
  config::child_path parent(path.begin(), path.end() - 1);
  auto sup = supervisor_at(st, parent);
  if (spec == nullptr || !sup) {
    co_return std::nullopt; // not running: it starts from the running config when it does
  }
  auto updated = co_await supervision::update_child(self, *sup, *spec, step_timeout);
  if (!updated && !missing(updated)) {
    co_return failed("update", path, updated.error());
  }
  co_return std::nullopt;
}

/// Stops the whole tree and starts the new one (the root's strategy changed nature).
task<std::optional<std::string>> replace_tree(context& self, daemon_state& st,
                                              const config::config_tree& next) {
  pid old_root = st.root();
  announce_root(st, pid{});
  st.retire_root(old_root);
  (void)co_await supervision::stop_supervisor(self, old_root, atoms::shutdown);
  st.index.clear(); // the old tree's stopped children are not the new tree's
  supervision::start_options options;
  options.link = false;
  options.events = st.sink;
  auto started = co_await supervision::start_supervisor(self, next.root, st.factory, options);
  if (!started) {
    st.out.push({post_kind::root_down, 0, {}, 111});
    co_return "the new tree did not start: " + started.error().message();
  }
  st.set_root(*started);
  announce_root(st, *started);
  co_return std::nullopt;
}

task<std::optional<std::string>> run_step(context& self, daemon_state& st,
                                          const config::config_tree& next, const plan_paths& paths,
                                          const plan_step& step) {
  bool kept = paths.restarted.contains(config::path_text(step.path));
  switch (step.what) {
  case plan_step::kind::stop: {
    auto f = co_await stop_step(self, st, step, kept);
    if (!kept) {
      st.events.forget_path(config::path_text(step.path));
      st.index.forget(config::path_text(step.path));
    }
    co_return f;
  }
  case plan_step::kind::start: co_return co_await start_step(self, st, next, step, kept);
  case plan_step::kind::update: co_return co_await update_step(self, st, next, step);
  }
  co_return std::nullopt;
}

task<std::vector<std::string>> apply_steps(context& self, daemon_state& st,
                                           const config::config_tree& old,
                                           const config::config_tree& next,
                                           const config::reload_plan& plan) {
  std::vector<std::string> failures;
  if (replaces_tree(plan)) {
    if (auto f = co_await replace_tree(self, st, next)) {
      failures.push_back(std::move(*f));
    }
    co_return failures;
  }
  plan_paths paths(plan);
  for (const auto& step : plan.steps) {
    if (auto f = co_await run_step(self, st, next, paths, step)) {
      failures.push_back(std::move(*f));
    }
  }
  std::vector<config::child_path> subtrees;
  changed_subtrees(old.root, next.root, {}, paths, subtrees);
  for (const auto& path : subtrees) {
    if (auto f = co_await sync_subtree(self, st, next, path)) {
      failures.push_back(std::move(*f));
    }
  }
  co_return failures;
}

void apply_daemon_options(daemon_state& st, const config::config_tree& next,
                          const config::reload_plan& plan) {
  for (const auto& name : plan.daemon_changes) {
    if (name == "log_level") {
      set_log_level(next.daemon.log_level);
    } else if (name == "allowed_users" || name == "allowed_groups") {
      auto resolved = resolve_policy(next.daemon.allowed_users, next.daemon.allowed_groups,
                                     st.policy().daemon_uid);
      for (const auto& w : resolved.warnings) {
        spdlog::warn("{}", w);
      }
      st.set_policy(std::move(resolved.policy));
    } else if (name == "max_connections_per_user" || name == "first_request_timeout"
               || name == "slow_reader_timeout") {
      // The event loop reads these from the running config as it goes.
    } else {
      spdlog::warn("daemon.{} changed: it takes effect when vigild restarts", name);
    }
  }
}

} // namespace

task<reload_result> reload_config(context& self, daemon_state& st, bool dry_run) {
  reload_result r;
  if (st.reloading.exchange(true)) {
    r.busy = true;
    co_return r;
  }
  reload_guard guard(st.reloading);
  const auto& path = st.config_path;
  bool strict = st.strict_modes;
  // Off the event loop, with the file system checks of the files the new tree would make
  // root load or run: before anything changes.
  auto loaded =
      co_await self.blocking([&path, &st, strict]() -> decltype(config::load_config(path)) {
        auto tree = config::load_config(path, make_reload_checks(st.kinds), strict);
        if (!tree) {
          return tree;
        }
        auto untrusted = untrusted_files(*tree, os::default_worker_program(), strict);
        if (untrusted.empty()) {
          return tree;
        }
        config::config_error_list errors;
        for (auto& line : untrusted) {
          errors.push_back({{path.string(), 0, 0}, "", std::move(line)});
        }
        return errors;
      });
  if (!loaded) {
    r.errors = config::to_string(loaded.error());
    spdlog::error("reload of {} failed; the running tree is unchanged:\n{}", path.string(),
                  r.errors);
    co_return r;
  }
  r.loaded = true;
  for (const auto& w : loaded->warnings) {
    spdlog::warn("reload: {}", w.to_string());
  }
  auto old = st.config();
  auto next = std::make_shared<const config::config_tree>(std::move(*loaded));
  r.plan = config::diff(*old, *next);
  if (dry_run) {
    co_return r;
  }
  notify_reloading();
  spdlog::info("reloading {}:\n{}", path.string(), config::describe(r.plan));
  st.set_config(next);
  r.failures = co_await apply_steps(self, st, *old, *next, r.plan);
  apply_daemon_options(st, *next, r.plan);
  for (const auto& f : r.failures) {
    spdlog::warn("reload: {}", f);
  }
  r.applied = true;
  st.events.reloaded(plan_json(r.plan));
  notify_systemd("READY=1\nSTATUS=running; config reloaded");
  co_return r;
}

std::string plan_json(const config::reload_plan& plan) {
  json out = json::array();
  for (const auto& c : plan.changes) {
    if (c.what != config::action::unchanged) {
      out.push_back(json{{"path", config::path_text(c.path)},
                         {"action", config::to_string(c.what)},
                         {"reason", c.reason}});
    }
  }
  for (const auto& name : plan.daemon_changes) {
    out.push_back(json{{"path", "daemon." + name}, {"action", "update"}, {"reason", "changed"}});
  }
  return dump(out);
}

} // namespace vigil::daemon
