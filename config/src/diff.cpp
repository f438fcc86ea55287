// SPDX-License-Identifier: Apache-2.0
// Reload plans: the running tree and the new one, compared child by child.
#include "vigil/config/reload.hpp"
#include "vigil/supervision/spec_fields.hpp"

#include <map>
#include <string_view>

namespace vigil::config {
namespace {

using namespace supervision;

/// Appends the name of each field of T whose change has `effect` and that differs between
/// `a` and `b`, in table order (vigil/supervision/spec_fields.hpp). A child's os settings
/// (shown inline) are named one by one; another nested table by its own name ("limits").
template <tabled T>
void changed_fields(const T& a, const T& b, on_reload effect, std::vector<std::string>& out) {
  for_each_field<T>([&](const auto& f) {
    using value = typename std::decay_t<decltype(f)>::value_type;
    if (f.reload != effect) {
      return;
    }
    if constexpr (tabled<value>) {
      if (f.show == shown::inline_) {
        changed_fields(f.of(a), f.of(b), effect, out);
      } else if (!(f.of(a) == f.of(b))) {
        out.emplace_back(f.option_name());
      }
    } else if (!(f.of(a) == f.of(b))) {
      out.emplace_back(f.option_name());
    }
  });
}

bool simple(const supervisor_spec& s) {
  return s.how == strategy::simple_one_for_one;
}

// A supervisor's own changes that its process survives; a changed template included.
std::vector<std::string> flag_changes(const supervisor_spec& a, const supervisor_spec& b) {
  std::vector<std::string> out;
  changed_fields(a, b, on_reload::update, out);
  if (simple(b) && a.children != b.children) {
    out.emplace_back("child template");
  }
  return out;
}

std::string changed(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out + " changed";
}

std::string strategy_switch(const supervisor_spec& a, const supervisor_spec& b) {
  return "strategy changed from " + std::string(name_of(a.how)) + " to "
         + std::string(name_of(b.how));
}

child_path join(const child_path& path, const std::string& id) {
  child_path out = path;
  out.push_back(id);
  return out;
}

struct verdict {
  const child_spec* old = nullptr;
  const child_spec* next = nullptr;
  action what = action::unchanged;
  std::string reason;
};

verdict classify(const child_spec& o, const child_spec& n) {
  verdict v{&o, &n, action::unchanged, {}};
  std::vector<std::string> names;
  if (o.type != n.type) {
    names.emplace_back("type");
  } else if (n.type == child_type::worker) {
    // What the process is: a change restarts the child.
    changed_fields(o, n, on_reload::restart, names);
  } else if (o.supervisor && n.supervisor && simple(*o.supervisor) != simple(*n.supervisor)) {
    return {&o, &n, action::restart, strategy_switch(*o.supervisor, *n.supervisor)};
  }
  if (!names.empty()) {
    return {&o, &n, action::restart, changed(names)};
  }
  // How the supervisor treats the process: a change updates the spec in place.
  changed_fields(o, n, on_reload::update, names);
  if (o.supervisor && n.supervisor) {
    auto flags = flag_changes(*o.supervisor, *n.supervisor);
    names.insert(names.end(), flags.begin(), flags.end());
  }
  if (!names.empty()) {
    v.what = action::update;
    v.reason = changed(names);
  }
  return v;
}

// Restarts forced on kept siblings by a config-driven restart, as the strategy would force
// them on a crash.
void cascade(strategy how, std::vector<verdict>& verdicts) {
  if (how != strategy::one_for_all && how != strategy::rest_for_one) {
    return;
  }
  const verdict* first = nullptr;
  for (auto& v : verdicts) {
    if (v.old != nullptr && v.what == action::restart && first == nullptr) {
      first = &v;
    }
  }
  if (first == nullptr) {
    return;
  }
  bool after = false;
  const std::string cause = first->next->id;
  for (auto& v : verdicts) {
    after = after || &v == first;
    bool hit = how == strategy::one_for_all || after;
    if (v.old != nullptr && v.what != action::restart && hit) {
      v.what = action::restart;
      v.reason = "restarted with " + cause + " (" + std::string(name_of(how)) + ")";
    }
  }
}

class planner {
public:
  reload_plan plan;

  void restart_all(const supervisor_spec& old, const supervisor_spec& next,
                   const std::string& reason) {
    plan.changes.push_back({{}, action::restart, reason});
    for (auto it = old.children.rbegin(); it != old.children.rend(); ++it) {
      plan.steps.push_back({plan_step::kind::stop, {it->id}, "root restarts: " + reason});
    }
    for (const auto& child : next.children) {
      plan.steps.push_back({plan_step::kind::start, {child.id}, "root restarts: " + reason});
    }
  }

  void children(const supervisor_spec& old, const supervisor_spec& next, const child_path& path) {
    if (simple(next)) {
      return; // the template is part of the supervisor's own update
    }
    std::map<std::string, const child_spec*, std::less<>> old_by_id;
    for (const auto& c : old.children) {
      old_by_id.emplace(c.id, &c);
    }
    std::map<std::string, const verdict*, std::less<>> by_id;
    std::vector<verdict> verdicts;
    for (const auto& c : next.children) {
      auto it = old_by_id.find(c.id);
      verdicts.push_back(it == old_by_id.end() ? verdict{nullptr, &c, action::start, "new child"}
                                               : classify(*it->second, c));
    }
    cascade(next.how, verdicts);
    for (const auto& v : verdicts) {
      by_id.emplace(v.next->id, &v);
    }
    stops(old, by_id, path);
    for (const auto& v : verdicts) {
      apply(v, path);
    }
  }

private:
  void stops(const supervisor_spec& old,
             const std::map<std::string, const verdict*, std::less<>>& by_id,
             const child_path& path) {
    for (const auto& c : old.children) {
      if (!by_id.contains(c.id)) {
        plan.changes.push_back({join(path, c.id), action::stop, "removed"});
      }
    }
    for (auto it = old.children.rbegin(); it != old.children.rend(); ++it) {
      auto found = by_id.find(it->id);
      if (found == by_id.end()) {
        plan.steps.push_back({plan_step::kind::stop, join(path, it->id), "removed"});
      } else if (found->second->what == action::restart) {
        plan.steps.push_back({plan_step::kind::stop, join(path, it->id), found->second->reason});
      }
    }
  }

  void apply(const verdict& v, const child_path& path) {
    child_path here = join(path, v.next->id);
    plan.changes.push_back({here, v.what, v.reason});
    if (v.what == action::start || v.what == action::restart) {
      plan.steps.push_back({plan_step::kind::start, here, v.reason});
      return;
    }
    if (v.what == action::update) {
      plan.steps.push_back({plan_step::kind::update, here, v.reason});
    }
    if (v.old->supervisor && v.next->supervisor) {
      children(*v.old->supervisor, *v.next->supervisor, here);
    }
  }
};

} // namespace

std::string_view to_string(action a) {
  switch (a) {
  case action::start: return "start";
  case action::stop: return "stop";
  case action::restart: return "restart";
  case action::update: return "update";
  case action::unchanged: return "unchanged";
  }
  return "?";
}

std::string path_text(const child_path& path) {
  std::string out = "root";
  for (const auto& id : path) {
    out += "/" + id;
  }
  return out;
}

reload_plan diff(const supervisor_spec& old, const supervisor_spec& next) {
  planner p;
  if (simple(old) != simple(next)) {
    p.restart_all(old, next, strategy_switch(old, next));
    return std::move(p.plan);
  }
  auto flags = flag_changes(old, next);
  if (!flags.empty()) {
    p.plan.changes.push_back({{}, action::update, changed(flags)});
    p.plan.steps.push_back({plan_step::kind::update, {}, changed(flags)});
  }
  p.children(old, next, {});
  return std::move(p.plan);
}

reload_plan diff(const config_tree& old, const config_tree& next) {
  reload_plan plan = diff(old.root, next.root);
  const daemon_options& a = old.daemon;
  const daemon_options& b = next.daemon;
  const std::pair<std::string_view, bool> fields[] = {
      {"socket", a.socket == b.socket},
      {"log_level", a.log_level == b.log_level},
      {"allowed_users", a.allowed_users == b.allowed_users},
      {"allowed_groups", a.allowed_groups == b.allowed_groups},
      {"plugins", a.plugins == b.plugins},
      {"log_dir", a.log_dir == b.log_dir},
      {"max_connections_per_user", a.max_connections_per_user == b.max_connections_per_user},
      {"first_request_timeout", a.first_request_timeout == b.first_request_timeout},
      {"slow_reader_timeout", a.slow_reader_timeout == b.slow_reader_timeout},
      {"cgroup", a.cgroup == b.cgroup},
      {"default_pids", a.default_pids == b.default_pids},
  };
  for (const auto& [name, same] : fields) {
    if (!same) {
      plan.daemon_changes.emplace_back(name);
    }
  }
  return plan;
}

const child_spec* find_child(const supervisor_spec& root, const child_path& path) {
  const supervisor_spec* level = &root;
  const child_spec* found = nullptr;
  for (const auto& id : path) {
    if (level == nullptr) {
      return nullptr;
    }
    found = nullptr;
    for (const auto& c : level->children) {
      if (c.id == id) {
        found = &c;
      }
    }
    if (found == nullptr) {
      return nullptr;
    }
    level = found->supervisor.get();
  }
  return found;
}

std::string describe(const reload_plan& plan) {
  std::size_t counts[5] = {};
  for (const auto& c : plan.changes) {
    ++counts[static_cast<std::size_t>(c.what)];
  }
  if (plan.empty()) {
    return "reload plan: nothing to do (" + std::to_string(counts[4]) + " unchanged)\n";
  }
  std::string daemon;
  for (const auto& name : plan.daemon_changes) {
    daemon += "  daemon.";
    daemon += name;
    daemon += " changed\n";
  }
  if (plan.steps.empty()) {
    return "reload plan: no child to touch (" + std::to_string(counts[4]) + " unchanged)\n"
           + daemon;
  }
  std::string out = "reload plan: " + std::to_string(counts[0]) + " to start, "
                    + std::to_string(counts[1]) + " to stop, " + std::to_string(counts[2])
                    + " to restart, " + std::to_string(counts[3]) + " to update, "
                    + std::to_string(counts[4]) + " unchanged\n";
  for (const auto& c : plan.changes) {
    if (c.what != action::unchanged) {
      std::string verb(to_string(c.what));
      verb.resize(9, ' ');
      out += "  " + verb + path_text(c.path) + ": " + c.reason + "\n";
    }
  }
  out += "steps:\n";
  std::size_t n = 0;
  for (const auto& s : plan.steps) {
    std::string_view verb = s.what == plan_step::kind::stop    ? "stop"
                            : s.what == plan_step::kind::start ? "start"
                                                               : "update";
    out += "  " + std::to_string(++n) + ". " + std::string(verb) + " " + path_text(s.path) + " ("
           + s.reason + ")\n";
  }
  return out;
}

} // namespace vigil::config
