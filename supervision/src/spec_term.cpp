// SPDX-License-Identifier: Apache-2.0
// Specs to terms, field by field from the tables of spec_fields.hpp.
#include "vigil/supervision/spec_term.hpp"

#include "vigil/supervision/spec_fields.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace vigil::supervision {
namespace {

/// A value of one of the tables' field types as a term; decode() in spec_term_decode.cpp is
/// its inverse.
template <class T>
term encode(const T& v) {
  if constexpr (tabled<T>) {
    // A map keyed by the field names.
    std::vector<std::pair<term, term>> entries;
    for_each_field<T>([&](const auto& f) { entries.emplace_back(atom(f.name), encode(f.of(v))); });
    return term::map(entries);
  } else if constexpr (named_enum<T>) {
    return atom(name_of(v));
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    // A resource limit: RLIM_INFINITY is :infinity; a term's integers stop at 2^63 - 1.
    if (v == resource_limit::unlimited) {
      return atoms::infinity;
    }
    constexpr auto most = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return term(static_cast<std::int64_t>(std::min(v, most)));
  } else if constexpr (std::is_same_v<T, milliseconds>) {
    return term(static_cast<std::int64_t>(v.count()));
  } else if constexpr (std::is_same_v<T, shutdown_policy>) {
    // brutal_kill, infinity, or the timeout in milliseconds.
    return v.how == shutdown_policy::kind::timeout ? encode(v.timeout) : term(atom(name_of(v.how)));
  } else if constexpr (std::is_same_v<T, source_location>) {
    return vigil::make_tuple(v.file, static_cast<std::int64_t>(v.line),
                             static_cast<std::int64_t>(v.column));
  } else if constexpr (std::is_same_v<T, std::shared_ptr<const supervisor_spec>>) {
    return v == nullptr ? term(atoms::nil) : encode(*v);
  } else if constexpr (is_optional<T>::value) {
    return v ? encode(*v) : term(atoms::nil);
  } else if constexpr (is_vector<T>::value) {
    std::vector<term> items;
    items.reserve(v.size());
    for (const auto& item : v) {
      items.push_back(encode(item));
    }
    return term::list(items);
  } else if constexpr (is_named_map<T>::value) {
    std::vector<std::pair<term, term>> entries;
    for (const auto& [name, value] : v) {
      entries.emplace_back(term(name), encode(value));
    }
    return term::map(entries);
  } else {
    // std::string, bool, double, std::uint32_t and term are terms as they are.
    return term(v);
  }
}

} // namespace

atom to_atom(strategy s) {
  return atom(name_of(s));
}

atom to_atom(restart_type r) {
  return atom(name_of(r));
}

atom to_atom(child_type t) {
  return atom(name_of(t));
}

atom to_atom(auto_shutdown a) {
  return atom(name_of(a));
}

term to_term(const child_spec& spec) {
  return encode(spec);
}

term to_term(const supervisor_spec& spec) {
  return encode(spec);
}

std::optional<atom> registered_name(const child_spec& spec) {
  if (!spec.args.is_map()) {
    return std::nullopt;
  }
  static const atom key("name");
  const term* v = spec.args.find(term(key));
  if (v == nullptr) {
    v = spec.args.find(term("name"));
  }
  if (v != nullptr && v->is_atom() && !v->is(atoms::nil)) {
    return v->as_atom();
  }
  if (v != nullptr && v->is_string()) {
    return atom::try_make(v->as_string());
  }
  return std::nullopt;
}

} // namespace vigil::supervision
