// SPDX-License-Identifier: Apache-2.0
#pragma once

// Walks a parsed TOML document against the option table and builds the config tree,
// collecting every error on the way.

#include "option_table.hpp"

#include <toml++/toml.h>

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace vigil::config::detail {

/// Where an option was written in one table, so that rules checked after the table was read
/// can point at it.
struct key_info {
  const toml::node* node = nullptr;
  /// False when the value failed its type check or validator (and was reported): rules that
  /// need the key's presence still see it, but its field kept its default.
  bool valid = false;
  supervision::source_location key;
  supervision::source_location value;
};

using present_keys = std::map<std::string, key_info, std::less<>>;

/// A child as read, with where its keys were.
struct child_read {
  supervision::child_spec spec;
  present_keys keys;
  std::string path;
};

/// Reads one document. Single use: construct, `read`, then `take_errors`.
class reader {
public:
  /// `file` is quoted in every error. `with`, when not null, adds its checks (config.hpp) and
  /// must outlive the reader.
  explicit reader(std::string file, const checks* with = nullptr)
      : file_(std::move(file)), with_(with) {}

  /// The tree `doc` describes. Meaningful only if `take_errors()` is then empty.
  [[nodiscard]] config_tree read(const toml::table& doc);

  /// The errors found, sorted by line and column.
  [[nodiscard]] config_error_list take_errors();

private:
  // -- walking (reader.cpp) ------------------------------------------------------------------
  [[nodiscard]] supervision::source_location where(const toml::source_region& region) const;
  void fail(const toml::source_region& at, std::string option, std::string message,
            severity level = severity::error);
  void fail(const supervision::source_location& at, std::string option, std::string message,
            severity level = severity::error);
  present_keys read_table(const toml::table& table, const std::string& path,
                          std::initializer_list<section> allowed, targets& t);
  bool read_value(const option& o, const toml::node& node, const std::string& path, targets& t);
  void report_unknown(const toml::key& key, const std::string& path,
                      std::initializer_list<section> allowed);
  void read_daemon(const toml::node& node, daemon_options& daemon);
  void read_supervisor_body(const toml::node& table, const std::string& path,
                            const present_keys& keys, supervision::supervisor_spec& spec);
  std::vector<child_read> read_children(const toml::node& node, const std::string& path);
  child_read read_child(const toml::table& table, const std::string& path);
  void read_backoff(const key_info& at, const std::string& path, supervision::child_spec& spec);

  // -- rules across options (reader_checks.cpp) -----------------------------------------------
  void check_child(const toml::table& table, child_read& child);
  void check_worker(const toml::table& table, child_read& child);
  /// ready, health and watchdog fit the child: its type and mode (docs/readiness.md).
  void check_readiness(child_read& child);
  void check_supervisor(const toml::node& table, const std::string& path, const present_keys& keys,
                        const supervision::supervisor_spec& spec,
                        const std::vector<child_read>& children);
  void check_unique_ids(const std::vector<child_read>& children);

  // -- checks against the kinds and the host (reader_host_checks.cpp) -------------------------
  void load_plugins(const present_keys& keys, const daemon_options& daemon);
  void check_kind(const child_read& child);
  void check_host(const child_read& child);
  void check_significance(const std::string& path, const present_keys& keys,
                          const supervision::supervisor_spec& spec,
                          const std::vector<child_read>& children);

  std::string file_;
  const checks* with_ = nullptr;
  config_error_list errors_;
};

} // namespace vigil::config::detail
