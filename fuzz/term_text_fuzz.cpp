// SPDX-License-Identifier: Apache-2.0
// Feeds arbitrary bytes to the term text parser, as a control-socket client or a shell user
// could. Whatever parses must print to text that parses back to the same term and prints
// to the same text again; whatever fails must say why.
#include "vigil/common/assert.hpp"
#include "vigil/term/text.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { // NOLINT
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = vigil::parse_term(input);
  if (!parsed) {
    const vigil::parse_error& e = parsed.error();
    VIGIL_ASSERT(e.line >= 1 && e.column >= 1 && !e.message.empty());
    VIGIL_ASSERT(e.line <= size + 1 && e.column <= size + 1);
    return 0;
  }
  std::string text = vigil::to_string(*parsed);
  auto reparsed = vigil::parse_term(text);
  VIGIL_ASSERT(reparsed && *reparsed == *parsed);
  VIGIL_ASSERT(vigil::to_string(*reparsed) == text);
  return 0;
}
