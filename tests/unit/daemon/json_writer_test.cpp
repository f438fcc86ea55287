// SPDX-License-Identifier: Apache-2.0
// The reply writer of `status` against nlohmann::json, which built the rows before it.
#include "json_writer.hpp"

#include "json_util.hpp"
#include "status_rows.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using vigil::pid;
using vigil::daemon::append_json_string;
using vigil::daemon::dump;
using vigil::daemon::json;
using vigil::daemon::json_writer;
using vigil::daemon::status_row;
using vigil::daemon::write_status_row;

/// Strings a config key, a plugin kind or a path may carry: every escape, every control
/// character, multi-byte UTF-8 and malformed UTF-8.
std::vector<std::string> awkward_strings() {
  std::vector<std::string> out = {
      "",
      "plain/worker_1",
      R"(say "hi")",
      R"(C:\dir\)",
      "tab\tnew\nline\rret\bback\fform",
      std::string("nul\0in", 6),
      "del\x7f",
      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
      "\xff",
      "trunc\xc3",
      "overlong\xc0\xaf",
      "surrogate\xed\xa0\x80",
      "above\xf4\x90\x80\x80",
      "mix\xe2\x28\xa1\"\\\x01",
      "end\xe2\x82",
  };
  for (int c = 0; c < 0x20; ++c) {
    out.push_back("c" + std::string(1, static_cast<char>(c)) + "c");
  }
  return out;
}

/// A `status` row as commands_tree.cpp built it with nlohmann::json before the writer.
json old_row(const status_row& r) {
  const auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  json row{{"path", r.path},
           {"id", r.id},
           {"pid", r.process ? json(to_string(vigil::term(*r.process))) : json(nullptr)},
           {"state", r.state},
           {"type", r.type},
           {"restarts", r.restarts}};
  row["uptime_ms"] = opt(r.uptime_ms);
  row["kind"] = opt(r.kind);
  row["mode"] = opt(r.mode);
  if (r.os_fields) {
    row["os_pid"] = opt(r.os_pid);
    row["rss_kb"] = opt(r.rss_kb);
    row["cpu_ms"] = opt(r.cpu_ms);
    row["log_lines_dropped"] = opt(r.log_lines_dropped);
    row["cgroup_memory_bytes"] = opt(r.cgroup_memory_bytes);
    row["cgroup_cpu_ms"] = opt(r.cgroup_cpu_ms);
    row["cgroup_pids"] = opt(r.cgroup_pids);
  }
  if (r.health) {
    row["health"] = *r.health; // only children with checks have the key
  }
  return row;
}

std::vector<status_row> rows_with(const std::string& s) {
  status_row worker{.path = s,
                    .id = s,
                    .process = pid{0, 42, 7},
                    .state = "running",
                    .type = "worker",
                    .restarts = 3,
                    .uptime_ms = 1234,
                    .kind = s,
                    .mode = "inprocess"};
  status_row supervisor{
      .path = s, .id = s, .state = "running", .type = "supervisor", .kind = "supervisor"};
  status_row os_up = worker;
  os_up.mode = s;
  os_up.os_fields = true;
  os_up.os_pid = 4711;
  os_up.rss_kb = 2048;
  os_up.cpu_ms = -1;
  os_up.log_lines_dropped = 12;
  status_row os_gone = os_up;
  os_gone.process.reset();
  os_gone.uptime_ms.reset();
  os_gone.os_pid.reset();
  os_gone.rss_kb.reset();
  os_gone.cpu_ms.reset();
  os_gone.log_lines_dropped.reset();
  status_row unknown{.path = s, .id = s, .state = "stopped", .type = "worker"};
  status_row os_checked = os_up;
  os_checked.health = "unhealthy 1/3: " + s;
  status_row widest_pid = worker;
  widest_pid.process = pid{UINT32_MAX, UINT32_MAX, UINT32_MAX};
  return {worker, supervisor, os_up, os_gone, unknown, os_checked, widest_pid};
}

TEST(JsonWriter, EscapesStringsAsDumpDoes) {
  for (const auto& s : awkward_strings()) {
    std::string text;
    append_json_string(text, s);
    EXPECT_EQ(text, dump(json(s))) << json(s).dump(-1, ' ', true, json::error_handler_t::replace);
  }
}

TEST(JsonWriter, SeparatesValuesAndNestsContainers) {
  std::string text;
  json_writer w(text);
  w.begin_object();
  w.key("a");
  w.begin_array();
  w.value(std::int64_t{-5});
  w.value(std::uint64_t{18446744073709551615U});
  w.null();
  w.begin_object();
  w.end_object();
  w.begin_array();
  w.end_array();
  w.value("x");
  w.end_array();
  w.key("b");
  w.value(std::uint32_t{7});
  w.end_object();
  EXPECT_EQ(text, R"({"a":[-5,18446744073709551615,null,{},[],"x"],"b":7})");
}

TEST(StatusRows, WriteTheTextTheOldJsonRowsDumpedTo) {
  for (const auto& s : awkward_strings()) {
    json old_rows = json::array();
    std::string text;
    json_writer w(text);
    w.begin_object();
    w.key("workers");
    w.begin_array();
    for (const auto& r : rows_with(s)) {
      old_rows.push_back(old_row(r));
      write_status_row(w, r);
    }
    w.end_array();
    w.end_object();
    const std::string old_text = dump(json{{"workers", std::move(old_rows)}});
    EXPECT_EQ(text, old_text);
    const json parsed = json::parse(text, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << text;
    EXPECT_EQ(parsed, json::parse(old_text));
  }
}

TEST(StatusRows, ARowWrittenFromItsKeptHeadIsTheSameText) {
  // status keeps each row's text up to its uptime and writes only the uptime again: the
  // reply must not change by a byte, whatever the row holds and wherever it stands.
  for (const auto& s : awkward_strings()) {
    std::string whole;
    std::string from_heads;
    json_writer a(whole);
    json_writer b(from_heads);
    a.begin_array();
    b.begin_array();
    bool running = true;
    for (auto r : rows_with(s)) {
      // Every other row has an uptime, the others none (null).
      r.uptime_ms = running ? std::optional<std::int64_t>(12'345) : std::nullopt;
      running = !running;
      write_status_row(a, r);
      write_status_row(b, vigil::daemon::status_row_head(r), r.uptime_ms);
    }
    a.end_array();
    b.end_array();
    EXPECT_EQ(from_heads, whole);
  }
}

} // namespace
