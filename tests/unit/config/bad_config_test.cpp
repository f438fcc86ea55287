// SPDX-License-Identifier: Apache-2.0
// The suite of bad configs: every tests/unit/config/bad/NAME.toml must be rejected with
// exactly the errors of NAME.expected, one per line. Files are loaded under their base name,
// so messages read "NAME.toml:line:col: ...". After a deliberate change of wording, run with
// VIGIL_UPDATE_GOLDEN=1 to rewrite the .expected files, and review the diff.
#include "config_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace vigil::config {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> bad_configs() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(test::source_dir() / "tests/unit/config/bad")) {
    if (entry.path().extension() == ".toml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(BadConfigs, TheSuiteCoversManyMistakes) {
  EXPECT_GE(bad_configs().size(), 30U);
}

TEST(BadConfigs, EachIsRejectedWithItsExpectedErrors) {
  const bool update = std::getenv("VIGIL_UPDATE_GOLDEN") != nullptr; // NOLINT(*-mt-unsafe)
  for (const auto& file : bad_configs()) {
    auto expected_file = fs::path(file).replace_extension(".expected");
    auto loaded = load_config_string(test::read_text(file), file.filename().string());
    if (loaded) {
      ADD_FAILURE() << file << " was accepted";
      continue;
    }
    std::string actual = to_string(loaded.error());
    if (update) {
      std::ofstream(expected_file, std::ios::binary) << actual;
    }
    ASSERT_TRUE(fs::exists(expected_file)) << expected_file;
    EXPECT_EQ(actual, test::read_text(expected_file)) << file;
  }
}

} // namespace
} // namespace vigil::config
