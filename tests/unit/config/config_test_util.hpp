// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/config/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace vigil::config::test {

/// The repository root (the build passes it in).
inline std::filesystem::path source_dir() {
  return VIGIL_SOURCE_DIR;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// `text` loaded as "vigil.toml"; a failure prints every error.
inline config_tree load_ok(std::string_view text) {
  auto loaded = load_config_string(text, "vigil.toml");
  if (!loaded) {
    ADD_FAILURE() << to_string(loaded.error());
    return {};
  }
  return std::move(loaded).value();
}

/// The errors of `text` loaded as "vigil.toml", one per line.
inline std::string load_errors(std::string_view text) {
  auto loaded = load_config_string(text, "vigil.toml");
  if (loaded) {
    ADD_FAILURE() << "expected the config to be rejected:\n" << text;
    return {};
  }
  return to_string(loaded.error());
}

} // namespace vigil::config::test
