// SPDX-License-Identifier: Apache-2.0
// Spec terms back into specs, field by field from the tables of spec_fields.hpp, checking
// every value: terms can come from outside (the shell).
#include "vigil/supervision/spec_fields.hpp"
#include "vigil/supervision/spec_term.hpp"

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace vigil::supervision {
namespace {

/// Nested supervisors a decoded spec may hold.
constexpr int max_nesting = 32;

/// A decoding in progress: how deep it is, and where it failed ("os.rlimits.nofile").
struct decoding {
  int depth = 0;
  std::string failed_at;

  /// Prefixes the path of a failure inside the value of `key`.
  bool fail(std::string_view key) {
    failed_at = failed_at.empty() ? std::string(key) : std::string(key) + "." + failed_at;
    return false;
  }
};

template <class Int>
bool decode_integer(const term& t, Int& out) {
  if (!t.is_integer() || t.as_integer() < 0
      || static_cast<std::uint64_t>(t.as_integer()) > std::numeric_limits<Int>::max()) {
    return false;
  }
  out = static_cast<Int>(t.as_integer());
  return true;
}

/// Reads `t` into `out`, the inverse of spec_term.cpp's encode(); false if `t` is not a value
/// of T, with `cx.failed_at` naming the field inside it that is wrong.
template <class T>
bool decode(const term& t, T& out, decoding& cx) {
  if constexpr (tabled<T>) {
    // Every field must be there.
    return t.is_map() && all_fields<T>([&](const auto& f) {
             const term* v = t.find(term(atom(f.name)));
             return (v != nullptr && decode(*v, f.of(out), cx)) || cx.fail(f.name);
           });
  } else if constexpr (named_enum<T>) {
    auto value = t.is_atom() ? enum_from_name<T>(t.as_atom().name()) : std::nullopt;
    if (value) {
      out = *value;
    }
    return value.has_value();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (t.is_string()) {
      out = std::string(t.as_string());
    }
    return t.is_string();
  } else if constexpr (std::is_same_v<T, bool>) {
    out = t.is(atoms::true_);
    return t.is(atoms::true_) || t.is(atoms::false_);
  } else if constexpr (std::is_same_v<T, double>) {
    if (t.is_float()) {
      out = t.as_float();
    } else if (t.is_integer()) {
      out = static_cast<double>(t.as_integer());
    }
    return t.is_float() || t.is_integer();
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    if (t.is(atoms::infinity)) {
      out = resource_limit::unlimited;
      return true;
    }
    return decode_integer(t, out);
  } else if constexpr (std::is_integral_v<T>) {
    return decode_integer(t, out);
  } else if constexpr (std::is_same_v<T, milliseconds>) {
    std::int64_t ms = 0;
    bool ok = decode_integer(t, ms);
    out = milliseconds{ms};
    return ok;
  } else if constexpr (std::is_same_v<T, shutdown_policy>) {
    if (t.is_atom()) {
      auto how = enum_from_name<shutdown_policy::kind>(t.as_atom().name());
      out = how == shutdown_policy::kind::brutal_kill ? shutdown_policy::brutal_kill()
                                                      : shutdown_policy::infinity();
      return how.has_value() && how != shutdown_policy::kind::timeout;
    }
    out = shutdown_policy::after(milliseconds{0});
    return decode(t, out.timeout, cx);
  } else if constexpr (std::is_same_v<T, term>) {
    out = t;
    return true;
  } else if constexpr (std::is_same_v<T, source_location>) {
    return t.is_tuple() && t.size() == 3 && decode(t[0], out.file, cx)
           && decode_integer(t[1], out.line) && decode_integer(t[2], out.column);
  } else if constexpr (std::is_same_v<T, std::shared_ptr<const supervisor_spec>>) {
    if (t.is(atoms::nil)) {
      out = nullptr;
      return true;
    }
    if (cx.depth >= max_nesting) {
      return false;
    }
    supervisor_spec nested;
    ++cx.depth;
    bool ok = decode(t, nested, cx);
    --cx.depth;
    out = std::make_shared<const supervisor_spec>(std::move(nested));
    return ok;
  } else if constexpr (is_optional<T>::value) {
    if (t.is(atoms::nil)) {
      out.reset();
      return true;
    }
    return decode(t, out.emplace(), cx);
  } else if constexpr (is_vector<T>::value) {
    out.clear();
    for (std::size_t i = 0; t.is_list() && i < t.size(); ++i) {
      if (!decode(t[i], out.emplace_back(), cx)) {
        return cx.fail(std::to_string(i));
      }
    }
    return t.is_list();
  } else {
    static_assert(is_named_map<T>::value, "a field type with no term form");
    out.clear();
    for (std::size_t i = 0; t.is_map() && i < t.size(); ++i) {
      const term& key = t.map_key(i);
      if (!key.is_string() || !decode(t.map_value(i), out[std::string(key.as_string())], cx)) {
        return key.is_string() ? cx.fail(key.as_string()) : false;
      }
    }
    return t.is_map();
  }
}

template <class Spec>
result<Spec> decode_spec(const term& t) {
  Spec out;
  decoding cx;
  if (!decode(t, out, cx)) {
    return error{make_error_code(errc::invalid_argument),
                 cx.failed_at.empty() ? std::string("spec term: not a map")
                                      : "spec term: bad or missing field :" + cx.failed_at};
  }
  return out;
}

} // namespace

result<child_spec> child_spec_from_term(const term& t) {
  return decode_spec<child_spec>(t);
}

result<supervisor_spec> supervisor_spec_from_term(const term& t) {
  return decode_spec<supervisor_spec>(t);
}

} // namespace vigil::supervision
