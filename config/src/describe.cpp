// SPDX-License-Identifier: Apache-2.0
// The validated tree as text, for `vigild --check-config`.
#include "vigil/common/duration.hpp"
#include "vigil/config/config.hpp"
#include "vigil/term/text.hpp"

#include <sstream>

namespace vigil::config {
namespace {

using namespace supervision;

std::string_view name_of(strategy s) {
  switch (s) {
  case strategy::one_for_one: return "one_for_one";
  case strategy::one_for_all: return "one_for_all";
  case strategy::rest_for_one: return "rest_for_one";
  case strategy::simple_one_for_one: return "simple_one_for_one";
  }
  return "?";
}

std::string_view name_of(restart_type r) {
  switch (r) {
  case restart_type::permanent: return "permanent";
  case restart_type::transient: return "transient";
  case restart_type::temporary: return "temporary";
  }
  return "?";
}

std::string_view name_of(enum auto_shutdown a) {
  switch (a) {
  case auto_shutdown::never: return "never";
  case auto_shutdown::any_significant: return "any_significant";
  case auto_shutdown::all_significant: return "all_significant";
  }
  return "?";
}

std::string text_of(const shutdown_policy& s) {
  switch (s.how) {
  case shutdown_policy::kind::brutal_kill: return "brutal_kill";
  case shutdown_policy::kind::infinity: return "infinity";
  case shutdown_policy::kind::timeout: return format_duration(s.timeout);
  }
  return "?";
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::vector<term> terms(items.begin(), items.end());
  return to_string(term::list(terms));
}

std::string location(const source_location& where) {
  if (where.line == 0) {
    return "";
  }
  return "  (" + where.file + ":" + std::to_string(where.line) + ")";
}

std::string flags(const supervisor_spec& s) {
  std::string out = "strategy=" + std::string(name_of(s.how)) + " intensity="
                    + std::to_string(s.intensity) + " period=" + format_duration(s.period)
                    + " auto_shutdown=" + std::string(name_of(s.auto_shutdown));
  if (s.how == strategy::simple_one_for_one) {
    out += " max_children=" + std::to_string(s.max_children);
  }
  if (s.on_max_restarts == supervision::max_restarts_action::hold) {
    out += " on_max_restarts=hold hold_retry=" + format_duration(s.hold_retry)
           + " hold_retry_max=" + format_duration(s.hold_retry_max);
  } else {
    out += " on_max_restarts=escalate";
  }
  if (!s.default_backoff) {
    out += " crash_backoff=false";
  }
  return out;
}

std::string backoff_text(const backoff_policy& b) {
  std::ostringstream out;
  out << "backoff={initial=" << format_duration(b.initial) << " max=" << format_duration(b.max)
      << " multiplier=" << b.multiplier << " jitter=" << b.jitter
      << " reset_after=" << format_duration(b.reset_after);
  if (b.immediate != 0) {
    out << " immediate=" << b.immediate;
  }
  out << "}";
  return out.str();
}

std::string limit_text(std::uint64_t v) {
  return v == resource_limit::unlimited ? std::string("unlimited") : std::to_string(v);
}

std::string os_text(const os_process_spec& os) {
  std::string out;
  if (!os.command.empty()) {
    out += " command=" + quoted_list(os.command);
  }
  for (const auto& [name, value] : os.env) {
    out += " env." + name + "=" + to_string(term(value));
  }
  if (!os.cwd.empty()) {
    out += " cwd=" + os.cwd;
  }
  if (os.umask) {
    std::ostringstream mask;
    mask << " umask=0" << std::oct << *os.umask;
    out += mask.str();
  }
  if (!os.user.empty()) {
    out += " user=" + os.user;
  }
  if (!os.group.empty()) {
    out += " group=" + os.group;
  }
  for (const auto& [name, limit] : os.rlimits) {
    out += " rlimits." + name + "=" + limit_text(limit.soft);
    if (limit.hard != limit.soft) {
      out += ":" + limit_text(limit.hard);
    }
  }
  if (!os.may_send.empty()) {
    out += " may_send=" + quoted_list(os.may_send);
  }
  return out + " stop_signal=" + os.stop_signal;
}

std::string worker_text(const child_spec& c) {
  if (c.mode == "command") {
    return os_text(c.os);
  }
  std::string out = " kind=" + c.kind + " mode=" + c.mode + " args=" + to_string(c.args);
  if (c.mode == "process") {
    out += os_text(c.os);
  }
  return out;
}

void describe_child(const child_spec& c, int depth, std::string& out) {
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
  out += (c.type == child_type::supervisor ? "supervisor " : "worker ") + c.id;
  if (c.type == child_type::worker) {
    out += worker_text(c);
  } else if (c.supervisor) {
    out += " " + flags(*c.supervisor);
  }
  out += " restart=" + std::string(name_of(c.restart)) + " shutdown=" + text_of(c.shutdown);
  if (c.significant) {
    out += " significant";
  }
  if (c.backoff) {
    out += " " + backoff_text(*c.backoff);
  }
  out += location(c.where) + "\n";
  if (c.supervisor) {
    for (const auto& child : c.supervisor->children) {
      describe_child(child, depth + 1, out);
    }
  }
}

} // namespace

std::string describe(const supervisor_spec& root) {
  std::string out = "supervisor " + root.name + " " + flags(root) + location(root.where) + "\n";
  for (const auto& child : root.children) {
    describe_child(child, 1, out);
  }
  return out;
}

std::string describe(const config_tree& tree) {
  const auto& d = tree.daemon;
  std::string out = "daemon socket=" + (d.socket.empty() ? std::string("(default)") : d.socket)
                    + " log_level=" + d.log_level + " allowed_users=" + quoted_list(d.allowed_users)
                    + " allowed_groups=" + quoted_list(d.allowed_groups)
                    + " plugins=" + quoted_list(d.plugins)
                    + (d.log_dir.empty() ? std::string() : " log_dir=" + d.log_dir) + "\n";
  return out + describe(tree.root);
}

} // namespace vigil::config
