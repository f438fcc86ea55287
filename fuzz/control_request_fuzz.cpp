// SPDX-License-Identifier: Apache-2.0
// Feeds arbitrary bytes to the control socket's input path, as any allowed client could send
// them: the line framing (in chunks of varying size, with a small line limit so that overflows
// happen), request validation, and the term text and targets that the session then parses.
// Every line gives a request or an error reply that is one line of valid JSON; an error
// never loses the id it could read; the framing never holds more than its limit plus a chunk.
#include "vigil/common/assert.hpp"
#include "vigil/protocol/framing.hpp"
#include "vigil/protocol/request.hpp"
#include "vigil/protocol/term_args.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace vigil;
using namespace vigil::protocol;

/// The framing limit for one run: the real one, or a small one so that overflows are common.
constexpr std::size_t small_line_limit = 256;

void check_reply_line(const std::string& line) {
  VIGIL_ASSERT(!line.empty() && line.back() == '\n');
  VIGIL_ASSERT(line.find('\n') == line.size() - 1);
  auto doc = nlohmann::json::parse(line, nullptr, false);
  VIGIL_ASSERT(!doc.is_discarded() && doc.is_object());
  VIGIL_ASSERT(doc.contains("id") && doc.contains("ok"));
}

/// What the session does with a valid request's arguments before running it.
void parse_arguments(const request& r) {
  const pid self{0, 42, 3};
  if (!r.target.empty()) {
    auto t = parse_target(r.target, self);
    VIGIL_ASSERT(t || !t.error().empty());
    [[maybe_unused]] auto parts = split_path(r.target);
  }
  if (r.term) {
    auto t = parse_client_term(*r.term, self);
    VIGIL_ASSERT(t || !t.error().empty());
  }
  for (const auto& n : r.names) {
    [[maybe_unused]] auto parts = split_path(n);
  }
}

/// Whether some object in the JSON text `line` names a key twice; counted here on its own,
/// without the daemon's parser callback, through nlohmann's SAX interface.
bool has_duplicate_keys(const std::string& line) {
  struct finder : nlohmann::json_sax<nlohmann::json> {
    std::vector<std::set<std::string>> objects;
    bool found = false;

    bool null() override { return true; }

    bool boolean(bool /*v*/) override { return true; }

    bool number_integer(number_integer_t /*v*/) override { return true; }

    bool number_unsigned(number_unsigned_t /*v*/) override { return true; }

    bool number_float(number_float_t /*v*/, const string_t& /*s*/) override { return true; }

    bool string(string_t& /*s*/) override { return true; }

    bool binary(binary_t& /*b*/) override { return true; }

    bool start_object(std::size_t /*n*/) override {
      objects.emplace_back();
      return true;
    }

    bool key(string_t& k) override {
      found = !objects.back().insert(k).second || found;
      return true;
    }

    bool end_object() override {
      objects.pop_back();
      return true;
    }

    bool start_array(std::size_t /*n*/) override { return true; }

    bool end_array() override { return true; }

    bool parse_error(std::size_t /*pos*/, const std::string& /*token*/,
                     const nlohmann::detail::exception& /*e*/) override {
      return false;
    }
  } sax;

  (void)nlohmann::json::sax_parse(line, &sax, nlohmann::json::input_format_t::json, false);
  return sax.found;
}

void handle_line(const std::string& line) {
  VIGIL_ASSERT(line.find('\n') == std::string::npos);
  auto parsed = parse_request(line);
  if (!parsed) {
    const request_error& e = parsed.error();
    VIGIL_ASSERT(!e.message.empty());
    check_reply_line(reply_error(e.id, e.code, e.message));
    return;
  }
  VIGIL_ASSERT(command_from_name(command_name(parsed->cmd)) == parsed->cmd);
  // An accepted request has each key once per object: its meaning does not depend on
  // which duplicate a reader keeps.
  VIGIL_ASSERT(!has_duplicate_keys(line));
  check_reply_line(reply_ok(parsed->id, "{}"));
  parse_arguments(*parsed);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { // NOLINT
  if (size == 0) {
    return 0;
  }
  // The first byte picks the limit and the size of the reads the socket hands over.
  std::uint8_t knobs = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::size_t limit = (knobs & 1) != 0 ? small_line_limit : max_request_line;
  std::size_t chunk = 1 + (knobs >> 1);
  line_buffer in(limit);
  std::size_t lines_bytes = 0;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    std::string_view piece = input.substr(at, chunk);
    in.append(piece);
    while (auto line = in.next_line()) {
      VIGIL_ASSERT(line->size() < limit);
      lines_bytes += line->size() + 1;
      handle_line(*line);
    }
    VIGIL_ASSERT(in.buffered() <= limit + piece.size());
    if (in.overflowed()) {
      // Once overflowed nothing more comes out, whatever arrives.
      in.append("\n{\"cmd\":\"hello\"}\n");
      VIGIL_ASSERT(!in.next_line());
      break;
    }
  }
  VIGIL_ASSERT(lines_bytes <= input.size());
  return 0;
}
