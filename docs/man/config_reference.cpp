// SPDX-License-Identifier: Apache-2.0
// Prints vigil.toml's option table (vigil/config/options.hpp) as tab-separated records for
// docs/man/generate.py, which writes vigil.toml(5)'s OPTIONS section from them:
//
//   SECTION  PATH  EXPECTED  DEFAULT  DOC
//
// DEFAULT is the TOML literal, "required", or "unset".
#include "vigil/config/options.hpp"

#include <iostream>
#include <string>

int main() {
  for (const auto& o : vigil::config::option_catalogue()) {
    std::string fallback = o.required                ? "required"
                           : o.default_value.empty() ? "unset"
                                                     : std::string(o.default_value);
    std::cout << vigil::config::section_name(o.where) << '\t' << vigil::config::option_path(o)
              << '\t' << vigil::config::expected_phrase(o) << '\t' << fallback << '\t' << o.doc
              << '\n';
  }
  return 0;
}
