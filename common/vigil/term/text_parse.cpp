// SPDX-License-Identifier: Apache-2.0
// parse_term: the recursive-descent parser of term text's containers (tuples, lists, maps,
// keyword items), over text_scanner's scalars, with nesting bounded by a depth ceiling.
#include "vigil/term/text.hpp"
#include "vigil/term/text_scan.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

std::string parse_error::to_string() const {
  std::string out = std::to_string(line);
  out += ':';
  out += std::to_string(column);
  out += ": ";
  out += message;
  return out;
}

namespace {

// Each nesting level costs a few stack frames; this ceiling keeps a generous
// `max_depth` from letting hostile input exhaust a small thread stack.
constexpr std::uint32_t depth_ceiling = 1024;

/// Recursive descent over the text, with the scalars left to `text_scanner`. Each `parse_*`
/// returns false once it has recorded an error; recursion happens only through containers,
/// which `parse_sequence` bounds.
class parser : detail::text_scanner {
public:
  parser(std::string_view text, parse_limits limits)
      : text_scanner(text, limits.new_atoms),
        max_depth_(std::min(limits.max_depth, depth_ceiling)) {}

  result<term, parse_error> run() {
    term out;
    skip_space();
    if (parse_value(out, nullptr)) {
      skip_space();
      if (at_end()) {
        return out;
      }
      fail_expected("end of input");
    }
    return make_error();
  }

private:
  /// Parses one term. Where `keyword` is given (list and map items), `name:` and
  /// `"name":` parse as an atom and set `*keyword`.
  bool parse_value(term& out, bool* keyword) {
    if (at_end()) {
      return fail_expected("a term");
    }
    switch (peek(0)) {
    case '{': return parse_tuple(out);
    case '[': return parse_list(out);
    case '%': return parse_map(out);
    default: return parse_scalar(out, keyword);
    }
  }

  /// With the cursor on an opening bracket, parses `item`s separated by commas up to `close`.
  /// The container began at `open`.
  template <class ParseItem>
  bool parse_sequence(std::size_t open, char close, std::string_view expected, ParseItem item) {
    if (!enter(open)) {
      return false;
    }
    advance();
    skip_space();
    if (!consume(close)) {
      do {
        skip_space();
        if (!item()) {
          return false;
        }
        skip_space();
      } while (consume(','));
      if (!expect(close, expected)) {
        return false;
      }
    }
    leave();
    return true;
  }

  /// Counts one more level of nesting, which began at `at`; fails past `max_depth_`.
  bool enter(std::size_t at) {
    if (depth_ >= max_depth_) {
      return fail_at(at, "nesting deeper than " + std::to_string(max_depth_));
    }
    ++depth_;
    return true;
  }

  void leave() noexcept { --depth_; }

  bool parse_tuple(term& out) {
    std::vector<term> elements;
    auto item = [&] { return parse_value(elements.emplace_back(), nullptr); };
    if (!parse_sequence(position(), '}', "'}' or ','", item)) {
      return false;
    }
    out = term::tuple(elements);
    return true;
  }

  /// A list item, where `name: value` stands for `{:name, value}` as in Elixir. That tuple
  /// is a level of nesting too: it prints as `{...}`, and the printed text must parse back
  /// under the same limit.
  bool parse_list_item(term& out) {
    std::size_t start = position();
    bool keyword = false;
    if (!parse_value(out, &keyword)) {
      return false;
    }
    if (!keyword) {
      return true;
    }
    if (!enter(start)) {
      return false;
    }
    skip_space();
    term value;
    if (!parse_value(value, nullptr)) {
      return false;
    }
    leave();
    out = term::tuple({out, value});
    return true;
  }

  bool parse_list(term& out) {
    std::vector<term> elements;
    auto item = [&] { return parse_list_item(elements.emplace_back()); };
    if (!parse_sequence(position(), ']', "']' or ','", item)) {
      return false;
    }
    out = term::list(elements);
    return true;
  }

  bool parse_entry(term& key, term& value) {
    bool keyword = false;
    if (!parse_value(key, &keyword)) {
      return false;
    }
    skip_space();
    if (!keyword && !consume("=>")) {
      return fail_expected("'=>'");
    }
    skip_space();
    return parse_value(value, nullptr);
  }

  bool parse_map(term& out) {
    std::size_t open = position();
    advance();
    if (!next_is('{')) {
      return fail_expected("'{'");
    }
    std::vector<std::pair<term, term>> entries;
    auto item = [&] {
      auto& [key, value] = entries.emplace_back();
      return parse_entry(key, value);
    };
    if (!parse_sequence(open, '}', "'}' or ','", item)) {
      return false;
    }
    out = term::map(entries);
    return true;
  }

  std::uint32_t depth_ = 0;
  std::uint32_t max_depth_;
};

} // namespace

result<term, parse_error> parse_term(std::string_view text, parse_limits limits) {
  return parser(text, limits).run();
}

} // namespace vigil
