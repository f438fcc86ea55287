// SPDX-License-Identifier: Apache-2.0
// Fuzzes the config loader with arbitrary text: any input gives a tree or errors with
// positions, never a crash. A tree that loads describes itself, and diffing it against
// itself plans no change.
#include "vigil/config/config.hpp"
#include "vigil/config/reload.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = vigil::config::load_config_string(text, "fuzz.toml");
  if (!loaded) {
    for (const auto& e : loaded.error()) {
      if (e.where.line == 0 && e.where.column != 0) {
        std::abort(); // a column without a line is a broken position
      }
    }
    return 0;
  }
  [[maybe_unused]] auto text_out = vigil::config::describe(*loaded);
  auto plan = vigil::config::diff(*loaded, *loaded);
  for (const auto& change : plan.changes) {
    if (change.what != vigil::config::action::unchanged) {
      std::abort(); // a tree differs from itself
    }
  }
  return 0;
}
