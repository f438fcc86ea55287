// SPDX-License-Identifier: Apache-2.0
#include "vigil/daemon/term_args.hpp"

#include "vigil/term/text.hpp"

namespace vigil::daemon {
namespace {

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

bool is_upper(char c) noexcept {
  return c >= 'A' && c <= 'Z';
}

bool is_ident_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || is_upper(c) || c == '_';
}

bool is_ident_char(char c) noexcept {
  return is_ident_start(c) || is_digit(c) || c == '@';
}

std::size_t identifier_end(std::string_view text, std::size_t i) noexcept {
  while (i < text.size() && is_ident_char(text[i])) {
    ++i;
  }
  if (i < text.size() && (text[i] == '?' || text[i] == '!')) {
    ++i;
  }
  return i;
}

std::size_t quoted_end(std::string_view text, std::size_t i) noexcept {
  char quote = text[i++];
  while (i < text.size()) {
    if (text[i] == '\\') {
      i += 2;
    } else if (text[i++] == quote) {
      return i;
    }
  }
  return text.size();
}

/// The end of a literal that starts at `i` and can hold no `self`: a string or quoted atom,
/// an `:atom`, a `#PID<...>`-style literal or a number. `i` when none starts there.
std::size_t literal_end(std::string_view text, std::size_t i) noexcept {
  char c = text[i];
  char next = i + 1 < text.size() ? text[i + 1] : ' ';
  if (c == '"' || c == '\'') {
    return quoted_end(text, i);
  }
  if (c == ':' && (next == '"' || next == '\'')) {
    return quoted_end(text, i + 1);
  }
  if (c == ':' && is_ident_start(next)) {
    return identifier_end(text, i + 1);
  }
  if (c == '#' && is_upper(next)) {
    std::size_t close = text.find('>', i);
    return close == std::string_view::npos ? text.size() : close + 1;
  }
  if (is_digit(c)) {
    while (i < text.size()
           && (is_ident_char(text[i])
               || (text[i] == '.' && i + 1 < text.size() && is_digit(text[i + 1])))) {
      ++i;
    }
  }
  return i;
}

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

} // namespace

std::string substitute_self(std::string_view text, pid self) {
  const std::string pid_text = to_string(term(self));
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::size_t end = literal_end(text, i); end != i) {
      out.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    if (!is_ident_start(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t end = identifier_end(text, i);
    std::string_view word = text.substr(i, end - i);
    bool qualified = i > 0 && text[i - 1] == '.';
    bool keyword =
        end < text.size() && text[end] == ':' && (end + 1 >= text.size() || text[end + 1] != ':');
    i = end;
    if (word != "self" || qualified || keyword) {
      out.append(word);
      continue;
    }
    out += pid_text;
    if (text.substr(i).starts_with("()")) {
      i += 2;
    }
  }
  return out;
}

result<term, std::string> parse_client_term(std::string_view text, pid self) {
  auto parsed = parse_term(substitute_self(text, self), parse_limits{64});
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

} // namespace vigil::daemon
