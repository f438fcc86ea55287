// SPDX-License-Identifier: Apache-2.0
// The option table is the one source of truth: these tests keep the documentation, the
// annotated example and the loader's defaults in line with it.
#include "vigil/config/options.hpp"

#include "config_test_util.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <set>

namespace vigil::config {
namespace {

constexpr std::string_view begin_marker = "<!-- options:begin -->\n";
constexpr std::string_view end_marker = "<!-- options:end -->";

TEST(OptionCatalogue, NamesEachOptionOnce) {
  std::set<std::string_view> names;
  for (const auto& o : option_catalogue()) {
    EXPECT_TRUE(names.insert(o.name).second) << o.name;
  }
}

TEST(OptionCatalogue, DocumentsEveryOption) {
  for (const auto& o : option_catalogue()) {
    EXPECT_GT(o.doc.size(), 20U) << o.name;
    // rlimits lists the resource names it accepts as its choices.
    bool choice = o.type == option_type::choice || o.type == option_type::signal
                  || o.type == option_type::rlimits || o.type == option_type::limits;
    EXPECT_EQ(choice, !o.choices.empty()) << o.name;
    EXPECT_FALSE(o.required && !o.default_value.empty()) << o.name;
  }
}

// docs/config.md carries the generated reference between two markers. To refresh it after
// changing the table, run this test with VIGIL_UPDATE_DOCS=1.
TEST(OptionCatalogue, ReferenceInDocsMatchesTheTable) {
  auto path = test::source_dir() / "docs/config.md";
  std::string doc = test::read_text(path);
  auto begin = doc.find(begin_marker);
  auto end = doc.find(end_marker);
  ASSERT_NE(begin, std::string::npos) << path << " lacks " << begin_marker;
  ASSERT_NE(end, std::string::npos) << path << " lacks " << end_marker;
  begin += begin_marker.size();
  std::string expected = render_option_reference();
  std::string current = doc.substr(begin, end - begin);
  if (current != expected && std::getenv("VIGIL_UPDATE_DOCS") != nullptr) { // NOLINT(*-mt-unsafe)
    doc.replace(begin, end - begin, expected);
    std::ofstream(path, std::ios::binary) << doc;
    current = expected;
  }
  EXPECT_EQ(current, expected) << "docs/config.md is out of date: rerun with VIGIL_UPDATE_DOCS=1";
}

TEST(OptionCatalogue, ExampleConfigShowsEveryOption) {
  std::string example = test::read_text(test::source_dir() / "configs/example.toml");
  for (const auto& o : option_catalogue()) {
    std::string name(o.name);
    std::regex shown = o.type == option_type::table_array
                           ? std::regex("\\[\\[supervisor\\." + name + "\\]\\]")
                           : std::regex("(^|[^A-Za-z0-9_])" + name + " = ");
    EXPECT_TRUE(std::regex_search(example, shown)) << "configs/example.toml lacks " << name;
  }
}

// Writing an option's documented default has the effect of leaving it out.
std::string with_documented_defaults() {
  std::string daemon = "[daemon]\n";
  std::string supervisor = "[supervisor]\n";
  std::string worker = "[[supervisor.children]]\nid = \"w\"\nkind = \"echo\"\n";
  std::string command = "[[supervisor.children]]\nid = \"c\"\ncommand = [\"true\"]\n";
  std::string backoff;
  for (const auto& o : option_catalogue()) {
    if (o.default_value.empty() || o.type == option_type::table_array) {
      continue;
    }
    std::string line = std::string(o.name) + " = " + std::string(o.default_value) + "\n";
    switch (o.where) {
    case section::daemon: daemon += line; break;
    case section::supervisor: supervisor += line; break;
    case section::child:
    case section::worker: worker += line; break;
    case section::process: command += line; break;
    case section::backoff:
      backoff += (backoff.empty() ? "" : ", ") + std::string(o.name) + " = "
                 + std::string(o.default_value);
      break;
    }
  }
  return daemon + supervisor + worker + "backoff = { " + backoff + " }\n" + command;
}

TEST(OptionCatalogue, DocumentedDefaultsAreTheLoadersDefaults) {
  auto explicit_tree = test::load_ok(with_documented_defaults());
  auto implicit_tree = test::load_ok(R"(
[[supervisor.children]]
id = "w"
kind = "echo"
backoff = {}
[[supervisor.children]]
id = "c"
command = ["true"]
)");
  EXPECT_EQ(explicit_tree, implicit_tree) << with_documented_defaults();
}

TEST(OptionCatalogue, SpellsPathsAsTheDocsDo) {
  std::set<std::string> paths;
  for (const auto& o : option_catalogue()) {
    paths.insert(option_path(o));
  }
  EXPECT_TRUE(paths.contains("daemon.socket"));
  EXPECT_TRUE(paths.contains("supervisor.strategy"));
  EXPECT_TRUE(paths.contains("children[].restart"));
  EXPECT_TRUE(paths.contains("children[].backoff.initial"));
}

} // namespace
} // namespace vigil::config
