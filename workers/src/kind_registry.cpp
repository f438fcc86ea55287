// SPDX-License-Identifier: Apache-2.0
// The kind registry: kinds added with their argument schemas, looked up by name, each
// child's arguments checked against its kind's schema, and the typed argument readers.
#include "vigil/workers/kind_registry.hpp"

#include "vigil/common/duration.hpp"
#include "vigil/term/text.hpp"
#include "vigil/workers/builtin_kinds.hpp"

#include <algorithm>

namespace vigil::workers {
namespace {

/// The argument `key` of `args`, whose keys are atoms from the config (or strings).
const term* find_arg(const term& args, std::string_view key) {
  if (!args.is_map()) {
    return nullptr;
  }
  const term* value = args.find(atom(key));
  return value != nullptr ? value : args.find(term(key));
}

error bad_arg(std::string_view key, std::string_view what) {
  return error{make_error_code(errc::invalid_argument),
               "argument '" + std::string(key) + "' " + std::string(what)};
}

std::string key_text(const term& key) {
  if (key.is_atom()) {
    return std::string(key.as_atom().name());
  }
  if (key.is_string()) {
    return std::string(key.as_string());
  }
  return to_string(key);
}

/// Why `value` is not of `type`, or empty when it is.
std::string type_problem(arg_type type, const term& value) {
  bool ok = false;
  switch (type) {
  case arg_type::integer: ok = value.is_integer(); break;
  case arg_type::duration:
    if (value.is_integer()) {
      if (value.as_integer() < 0) {
        return "expected a duration, got a negative number of milliseconds";
      }
      return {};
    }
    ok = value.is_string() && parse_duration(value.as_string()).has_value();
    if (!ok) {
      return "expected a duration such as \"2s\", \"1m30s\" or \"250ms\" (or an integer of "
             "milliseconds), got "
             + to_string(value);
    }
    return {};
  case arg_type::string: ok = value.is_string(); break;
  case arg_type::boolean: ok = value.is(atoms::true_) || value.is(atoms::false_); break;
  case arg_type::number: ok = value.is_integer() || value.is_float(); break;
  case arg_type::list: ok = value.is_list(); break;
  case arg_type::map: ok = value.is_map(); break;
  case arg_type::any: ok = true; break;
  }
  return ok ? std::string()
            : "expected " + std::string(describe(type)) + ", got " + to_string(value);
}

std::string accepted(const arg_schema& schema) {
  if (schema.empty()) {
    return "it takes no arguments of its own";
  }
  std::string out = "it takes ";
  for (std::size_t i = 0; i < schema.size(); ++i) {
    out += (i == 0 ? "" : ", ") + schema[i].name;
  }
  return out;
}

} // namespace

std::string_view describe(arg_type type) noexcept {
  switch (type) {
  case arg_type::integer: return "an integer";
  case arg_type::duration: return "a duration";
  case arg_type::string: return "a string";
  case arg_type::boolean: return "a boolean";
  case arg_type::number: return "a number";
  case arg_type::list: return "a list";
  case arg_type::map: return "a table";
  case arg_type::any: return "any value";
  }
  return "any value";
}

std::vector<arg_problem> check_args(const arg_schema& schema, const term& args) {
  std::vector<arg_problem> out;
  if (!args.is_map()) {
    out.push_back({"", "expected a table of arguments, got " + to_string(args)});
    return out;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const term& value = args.map_value(i);
    std::string name = key_text(args.map_key(i));
    auto spec = std::find_if(schema.begin(), schema.end(),
                             [&](const arg_spec& a) { return a.name == name; });
    if (spec == schema.end() && name == "name") {
      // Every kind takes `name`: the child factory registers the process under it.
      if (!value.is_string() && !value.is_atom()) {
        out.push_back({name, "expected a string (the name to register the child under), got "
                                 + to_string(value)});
      }
      continue;
    }
    if (spec == schema.end()) {
      out.push_back({name, "unknown argument (" + accepted(schema) + ", and name)"});
      continue;
    }
    if (auto problem = type_problem(spec->type, value); !problem.empty()) {
      out.push_back({name, std::move(problem)});
    }
  }
  for (const auto& spec : schema) {
    if (spec.required && find_arg(args, spec.name) == nullptr) {
      out.push_back({spec.name, "missing the required argument '" + spec.name + "' ("
                                    + std::string(describe(spec.type)) + ")"});
    }
  }
  return out;
}

result<void> kind_registry::add(kind k) {
  if (k.name.empty() || !k.start) {
    return error{make_error_code(errc::invalid_argument), "a worker kind needs a name and a start"};
  }
  std::string name = k.name;
  if (!kinds_.emplace(name, std::move(k)).second) {
    return error{make_error_code(errc::already_exists),
                 "worker kind '" + name + "' is already registered"};
  }
  return {};
}

result<void> kind_registry::add(kind k, arg_schema args) {
  std::string name = k.name;
  if (auto added = add(std::move(k)); !added) {
    return added;
  }
  schemas_.emplace(std::move(name), std::move(args));
  return {};
}

const arg_schema* kind_registry::schema(std::string_view name) const noexcept {
  auto it = schemas_.find(name);
  return it == schemas_.end() ? nullptr : &it->second;
}

const kind* kind_registry::find(std::string_view name) const noexcept {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> kind_registry::names() const {
  std::vector<std::string> out;
  out.reserve(kinds_.size());
  for (const auto& [name, k] : kinds_) {
    out.push_back(name);
  }
  return out;
}

kind_registry kind_registry::with_builtins() {
  kind_registry r;
  for (auto& [k, args] : builtin_kinds()) {
    [[maybe_unused]] auto added = r.add(std::move(k), std::move(args));
  }
  return r;
}

result<std::int64_t> int_arg(const term& args, std::string_view key, std::int64_t fallback) {
  const term* value = find_arg(args, key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_integer()) {
    return bad_arg(key, "must be an integer");
  }
  return value->as_integer();
}

result<std::chrono::milliseconds> duration_arg(const term& args, std::string_view key,
                                               std::chrono::milliseconds fallback) {
  const term* value = find_arg(args, key);
  if (value == nullptr) {
    return fallback;
  }
  if (value->is_integer()) {
    if (value->as_integer() < 0) {
      return bad_arg(key, "must not be negative");
    }
    return std::chrono::milliseconds(value->as_integer());
  }
  if (value->is_string()) {
    if (auto d = parse_duration(value->as_string())) {
      return *d;
    }
  }
  return bad_arg(key, "must be a duration such as \"2s\" (or an integer of milliseconds)");
}

} // namespace vigil::workers
