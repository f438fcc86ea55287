// SPDX-License-Identifier: Apache-2.0
#include "vigil/workers/kind_registry.hpp"

#include "vigil/workers/builtin_kinds.hpp"

namespace vigil::workers {

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
  for (auto& k : builtin_kinds()) {
    [[maybe_unused]] auto added = r.add(std::move(k));
  }
  return r;
}

result<std::int64_t> int_arg(const term& args, std::string_view key, std::int64_t fallback) {
  if (!args.is_map()) {
    return fallback;
  }
  const term* value = args.find(atom(key));
  if (value == nullptr) {
    value = args.find(term(key));
  }
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_integer()) {
    return error{make_error_code(errc::invalid_argument),
                 "argument '" + std::string(key) + "' must be an integer"};
  }
  return value->as_integer();
}

} // namespace vigil::workers
