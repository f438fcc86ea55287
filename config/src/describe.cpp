// SPDX-License-Identifier: Apache-2.0
// The validated tree as text, for `vigild --check-config`: each spec's fields as its table
// (vigil/supervision/spec_fields.hpp) lists and shows them.
#include "vigil/common/duration.hpp"
#include "vigil/config/config.hpp"
#include "vigil/supervision/spec_fields.hpp"
#include "vigil/term/text.hpp"

#include <sstream>

namespace vigil::config {
namespace {

using namespace supervision;

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

std::string limit_text(std::uint64_t v) {
  return v == resource_limit::unlimited ? std::string("unlimited") : std::to_string(v);
}

template <tabled T>
void describe_fields(const T& v, std::string& out);

/// The text of a value after `name=`.
template <class T>
std::string text(const T& v) {
  if constexpr (std::is_same_v<T, resource_limit>) {
    // soft:hard, or one number when they are the same: as the config writes them
    return limit_text(v.soft) + (v.hard == v.soft ? "" : ":" + limit_text(v.hard));
  } else if constexpr (tabled<T>) {
    std::string fields;
    describe_fields(v, fields);
    return "{" + fields.substr(fields.empty() ? 0 : 1) + "}";
  } else if constexpr (named_enum<T>) {
    return std::string(name_of(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return v;
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    // limits.pids = "infinity", as the config writes it (memory sizes are never unlimited)
    return v == resource_limit::unlimited ? std::string("infinity") : std::to_string(v);
  } else if constexpr (std::is_same_v<T, std::optional<std::uint32_t>>) {
    // The spec's one optional integer is os.umask, a mode: octal.
    std::ostringstream mask;
    mask << "0" << std::oct << v.value_or(0);
    return mask.str();
  } else if constexpr (is_optional<T>::value) {
    return v ? text(*v) : std::string("unset");
  } else if constexpr (std::is_same_v<T, milliseconds>) {
    return format_duration(v);
  } else if constexpr (std::is_same_v<T, shutdown_policy>) {
    return v.how == shutdown_policy::kind::timeout ? format_duration(v.timeout)
                                                   : std::string(name_of(v.how));
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return quoted_list(v);
  } else if constexpr (std::is_same_v<T, term>) {
    return to_string(v);
  } else if constexpr (std::is_same_v<T, source_location>) {
    return v.file + ":" + std::to_string(v.line);
  } else if constexpr (is_vector<T>::value
                       || std::is_same_v<T, std::shared_ptr<const supervisor_spec>>) {
    // Children and nested supervisors are printed as lines of their own.
    return "...";
  } else {
    std::ostringstream number;
    number << v;
    return number.str();
  }
}

/// Whether a value is the "nothing" of its type, which `shown::if_set` leaves out.
template <class T>
bool is_unset(const T& v) {
  if constexpr (requires { v.empty(); }) {
    return v.empty();
  } else if constexpr (is_optional<T>::value
                       || std::is_same_v<T, std::shared_ptr<const supervisor_spec>>) {
    return !v;
  } else {
    return v == T{};
  }
}

/// Appends " name=value" for each field of `v` that `describe` shows (spec_fields.hpp).
template <tabled T>
void describe_fields(const T& v, std::string& out) {
  for_each_field<T>([&](const auto& f) {
    const auto& x = f.of(v);
    using value = std::decay_t<decltype(x)>;
    if (f.show == shown::never || !f.applies_to(v)) {
      return;
    }
    if (f.show == shown::if_unset) {
      out += is_unset(x) ? " " + std::string(f.option_name()) + "=false" : "";
    } else if (f.show == shown::if_set && is_unset(x)) {
      return;
    } else if constexpr (tabled<value>) {
      if (f.show == shown::inline_) {
        describe_fields(x, out); // a child's os settings
      } else {
        out += " " + std::string(f.option_name()) + "=" + text(x); // limits={memory=...}
      }
    } else if constexpr (std::is_same_v<value, std::shared_ptr<const supervisor_spec>>) {
      if (x) {
        describe_fields(*x, out); // a nested supervisor's flags
      }
    } else if constexpr (std::is_same_v<value, bool>) {
      out += x ? " " + std::string(f.option_name()) : "";
    } else if constexpr (is_named_map<value>::value) {
      for (const auto& [key, entry] : x) {
        // env values quoted, as a string can hold spaces
        out += " " + std::string(f.option_name()) + "." + key + "=";
        if constexpr (std::is_same_v<typename value::mapped_type, std::string>) {
          out += to_string(term(entry));
        } else {
          out += text(entry);
        }
      }
    } else {
      out += " " + std::string(f.option_name()) + "=" + text(x);
    }
  });
}

void describe_child(const child_spec& c, int depth, std::string& out) {
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
  out += std::string(name_of(c.type)) + " " + c.id;
  describe_fields(c, out);
  out += location(c.where) + "\n";
  if (c.supervisor) {
    for (const auto& child : c.supervisor->children) {
      describe_child(child, depth + 1, out);
    }
  }
}

} // namespace

std::string describe(const supervisor_spec& root) {
  std::string out = "supervisor " + root.name;
  describe_fields(root, out);
  out += location(root.where) + "\n";
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
