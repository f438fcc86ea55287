// SPDX-License-Identifier: Apache-2.0
#include "vigil/protocol/term_args.hpp"

#include "vigil/term/text.hpp"
#include "vigil/term/text_chars.hpp"
#include "vigil/term/text_substitute.hpp"

namespace vigil::protocol {
namespace {

using namespace text_chars;

bool is_name_char(char c) noexcept {
  return is_ident_start(c) || is_digit(c) || c == '-' || c == '.';
}

bool is_path(std::string_view text) noexcept {
  if (text.empty() || text.front() == '/' || text.back() == '/') {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '/' ? text[i + 1] == '/' : !is_name_char(text[i])) {
      return false;
    }
  }
  return true;
}

/// Reads `self` (and `self()`) as the session's pid.
identifier_lookup self_lookup(pid self) {
  return [text = to_string(term(self))](std::string_view name) {
    return name == "self" ? std::optional<std::string>(text) : std::nullopt;
  };
}

} // namespace

std::string substitute_self(std::string_view text, pid self) {
  return substitute_identifiers(text, self_lookup(self));
}

result<term, std::string> parse_client_term(std::string_view text, pid self,
                                            atom_budget* new_atoms) {
  auto parsed = parse_substituted(text, self_lookup(self), parse_limits{64, new_atoms});
  if (!parsed) {
    return "bad term text '" + std::string(text) + "': " + parsed.error().to_string();
  }
  return std::move(*parsed);
}

result<target, std::string> parse_target(std::string_view text, pid self) {
  if (text == "self" || text == "self()") {
    return target{target::kind::process, self, {}};
  }
  if (text.starts_with("#PID<") || text.starts_with("<")) {
    auto parsed = parse_term(text);
    if (!parsed || !parsed->is_pid()) {
      return "bad pid '" + std::string(text) + "': write it as #PID<0.74.0> or <0.74.0>";
    }
    return target{target::kind::process, parsed->as_pid(), {}};
  }
  if (text.starts_with(":")) {
    std::string_view name = text.substr(1);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    if (name.empty()) {
      return std::string("bad name ':': an atom needs a name");
    }
    return target{target::kind::registered, {}, std::string(name)};
  }
  if (!is_path(text)) {
    return "bad target '" + std::string(text)
           + "': expected a worker id or path (root/jobs/dispatcher), a name (:echo) or a pid "
             "(#PID<0.74.0>)";
  }
  return target{target::kind::name, {}, std::string(text)};
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> ids;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      slash = path.size();
    }
    if (slash > start) {
      ids.emplace_back(path.substr(start, slash - start));
    }
    start = slash + 1;
  }
  if (!ids.empty() && ids.front() == "root") {
    ids.erase(ids.begin());
  }
  return ids;
}

} // namespace vigil::protocol
