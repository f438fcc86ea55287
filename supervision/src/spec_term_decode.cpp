// SPDX-License-Identifier: Apache-2.0
// Spec terms back into specs, checking every field.
#include "vigil/supervision/spec_term.hpp"

#include "spec_keys.hpp"

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace vigil::supervision {

using namespace detail; // the keys

namespace {

/// Nested supervisors a decoded spec may hold: terms can come from outside (the shell).
constexpr int max_nesting = 32;

result<child_spec> child_from(const term& t, int depth);
result<supervisor_spec> supervisor_from(const term& t, int depth);

error bad(atom field) {
  return error{make_error_code(errc::invalid_argument),
               "spec term: bad or missing field :" + std::string(field.name())};
}

/// Reads the fields of a map term, remembering the first failure.
class reader {
public:
  explicit reader(const term& map) : map_(map) {}

  [[nodiscard]] const term* get(atom key) {
    const term* v = map_.is_map() ? map_.find(term(key)) : nullptr;
    if (v == nullptr) {
      fail(key);
    }
    return v;
  }

  void text(atom key, std::string& out) {
    if (const term* v = get(key)) {
      if (v->is_string()) {
        out = std::string(v->as_string());
      } else {
        fail(key);
      }
    }
  }

  template <class Int>
  void integer(atom key, Int& out) {
    const term* v = get(key);
    if (v == nullptr || !v->is_integer() || v->as_integer() < 0
        || static_cast<std::uint64_t>(v->as_integer()) > std::numeric_limits<Int>::max()) {
      return fail(key);
    }
    out = static_cast<Int>(v->as_integer());
  }

  void duration(atom key, milliseconds& out) {
    std::int64_t ms = 0;
    integer(key, ms);
    out = milliseconds{ms};
  }

  void number(atom key, double& out) {
    const term* v = get(key);
    if (v != nullptr && v->is_float()) {
      out = v->as_float();
    } else if (v != nullptr && v->is_integer()) {
      out = static_cast<double>(v->as_integer());
    } else {
      fail(key);
    }
  }

  void flag(atom key, bool& out) {
    const term* v = get(key);
    if (v != nullptr && (v->is(atoms::true_) || v->is(atoms::false_))) {
      out = v->is(atoms::true_);
    } else {
      fail(key);
    }
  }

  template <class Enum, std::size_t N>
  void choice(atom key, const std::array<atom, N>& names, Enum& out) {
    const term* v = get(key);
    for (std::size_t i = 0; v != nullptr && v->is_atom() && i < N; ++i) {
      if (v->is(names[i])) {
        out = static_cast<Enum>(i);
        return;
      }
    }
    fail(key);
  }

  void fail(atom key) {
    if (!failed_) {
      failed_ = key;
    }
  }

  [[nodiscard]] std::optional<atom> failed() const { return failed_; }

private:
  const term& map_;
  std::optional<atom> failed_;
};

bool read_where(const term* t, source_location& out) {
  if (t == nullptr || !t->is_tuple() || t->size() != 3 || !(*t)[0].is_string()
      || !(*t)[1].is_integer() || !(*t)[2].is_integer()) {
    return false;
  }
  out.file = std::string((*t)[0].as_string());
  out.line = static_cast<std::uint32_t>((*t)[1].as_integer());
  out.column = static_cast<std::uint32_t>((*t)[2].as_integer());
  return true;
}

void read_shutdown(reader& r, shutdown_policy& out) {
  const term* v = r.get(k_shutdown);
  if (v == nullptr) {
    return;
  }
  if (v->is(a_brutal_kill)) {
    out = shutdown_policy::brutal_kill();
  } else if (v->is(atoms::infinity)) {
    out = shutdown_policy::infinity();
  } else if (v->is_integer() && v->as_integer() >= 0) {
    out = shutdown_policy::after(milliseconds{v->as_integer()});
  } else {
    r.fail(k_shutdown);
  }
}

void read_backoff(reader& r, std::optional<backoff_policy>& out, atom key = k_backoff) {
  const term* v = r.get(key);
  if (v == nullptr || v->is(atoms::nil)) {
    return;
  }
  backoff_policy b;
  reader in(*v);
  in.duration(k_initial, b.initial);
  in.duration(k_max, b.max);
  in.number(k_multiplier, b.multiplier);
  in.number(k_jitter, b.jitter);
  in.duration(k_reset_after, b.reset_after);
  in.integer(k_immediate, b.immediate);
  if (in.failed()) {
    r.fail(key);
  } else {
    out = b;
  }
}

void read_os(reader& r, os_process_spec& out) {
  const term* v = r.get(k_os);
  if (v == nullptr) {
    return;
  }
  reader in(*v);
  const term* command = in.get(k_command);
  for (std::size_t i = 0; command != nullptr && command->is_list() && i < command->size(); ++i) {
    if ((*command)[i].is_string()) {
      out.command.emplace_back((*command)[i].as_string());
    } else {
      in.fail(k_command);
    }
  }
  const term* env = in.get(k_env);
  for (std::size_t i = 0; env != nullptr && env->is_map() && i < env->size(); ++i) {
    const term& key = env->map_key(i);
    const term& value = env->map_value(i);
    if (key.is_string() && value.is_string()) {
      out.env[std::string(key.as_string())] = std::string(value.as_string());
    } else {
      in.fail(k_env);
    }
  }
  in.text(k_cwd, out.cwd);
  if (const term* umask = in.get(k_umask); umask != nullptr && !umask->is(atoms::nil)) {
    std::uint32_t mask = 0;
    in.integer(k_umask, mask);
    out.umask = mask;
  }
  in.text(k_user, out.user);
  in.text(k_group, out.group);
  in.text(k_stop_signal, out.stop_signal);
  const term* may_send = in.get(k_may_send);
  for (std::size_t i = 0; may_send != nullptr && may_send->is_list() && i < may_send->size(); ++i) {
    if ((*may_send)[i].is_string()) {
      out.may_send.emplace_back((*may_send)[i].as_string());
    } else {
      in.fail(k_may_send);
    }
  }
  if ((command != nullptr && !command->is_list()) || (env != nullptr && !env->is_map())
      || (may_send != nullptr && !may_send->is_list()) || in.failed()) {
    r.fail(k_os);
  }
}

result<child_spec> child_from(const term& t, int depth) {
  child_spec out;
  reader r(t);
  r.text(k_id, out.id);
  r.choice(k_type, type_atoms, out.type);
  r.choice(k_restart, restart_atoms, out.restart);
  read_shutdown(r, out.shutdown);
  r.flag(k_significant, out.significant);
  read_backoff(r, out.backoff);
  r.text(k_kind, out.kind);
  if (const term* args = r.get(k_args)) {
    out.args = *args;
  }
  r.text(k_mode, out.mode);
  read_os(r, out.os);
  if (const term* nested = r.get(k_supervisor); nested != nullptr && !nested->is(atoms::nil)) {
    if (depth >= max_nesting) {
      return bad(k_supervisor);
    }
    auto sup = supervisor_from(*nested, depth + 1);
    if (!sup) {
      return sup.error();
    }
    out.supervisor = std::make_shared<const supervisor_spec>(std::move(*sup));
  }
  if (!read_where(r.get(k_where), out.where)) {
    r.fail(k_where);
  }
  if (auto field = r.failed()) {
    return bad(*field);
  }
  return out;
}

result<supervisor_spec> supervisor_from(const term& t, int depth) {
  supervisor_spec out;
  reader r(t);
  r.text(k_name, out.name);
  r.choice(k_strategy, strategy_atoms, out.how);
  r.integer(k_intensity, out.intensity);
  r.duration(k_period, out.period);
  r.choice(k_auto_shutdown, auto_shutdown_atoms, out.auto_shutdown);
  r.integer(k_max_children, out.max_children);
  r.choice(k_on_max_restarts, max_restarts_atoms, out.on_max_restarts);
  r.duration(k_hold_retry, out.hold_retry);
  r.duration(k_hold_retry_max, out.hold_retry_max);
  read_backoff(r, out.default_backoff, k_default_backoff);
  const term* children = r.get(k_children);
  if (children != nullptr && !children->is_list()) {
    r.fail(k_children);
  }
  for (std::size_t i = 0; children != nullptr && children->is_list() && i < children->size(); ++i) {
    auto child = child_from((*children)[i], depth);
    if (!child) {
      return child.error();
    }
    out.children.push_back(std::move(*child));
  }
  if (!read_where(r.get(k_where), out.where)) {
    r.fail(k_where);
  }
  if (auto field = r.failed()) {
    return bad(*field);
  }
  return out;
}

} // namespace

result<child_spec> child_spec_from_term(const term& t) {
  return child_from(t, 0);
}

result<supervisor_spec> supervisor_spec_from_term(const term& t) {
  return supervisor_from(t, 0);
}

} // namespace vigil::supervision
