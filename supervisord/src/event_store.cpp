// SPDX-License-Identifier: Apache-2.0
// The event store (event_store.hpp): events recorded as JSON in a ring and posted to the
// connections that follow them, children's start times and restart counts, and log tails.
#include "event_store.hpp"

#include "vigil/term/text.hpp"

#include "outbox.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace vigil::daemon {
namespace {

using json = nlohmann::json;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

json event_head(std::string_view name) {
  return json{{"v", 1}, {"event", name}, {"ts", wall_ms()}};
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> tail(const std::deque<std::string>& ring, std::size_t n) {
  std::size_t skip = ring.size() > n ? ring.size() - n : 0;
  return {ring.begin() + static_cast<std::ptrdiff_t>(skip), ring.end()};
}

} // namespace

event_store::event_store(outbox& out, std::size_t capacity, std::size_t log_lines,
                         std::size_t log_bytes)
    : out_(out), capacity_(capacity), log_capacity_(log_lines), log_bytes_(log_bytes) {}

void event_store::publish(std::string event_json) {
  // Called with mutex_ held: posting under the lock keeps every follower's order the
  // store's order, and a new follower's reply before its first streamed event.
  for (auto conn : event_followers_) {
    out_.push({post_kind::line, conn, event_json + "\n", 0});
  }
  for (const auto& [key, fn] : taps_) {
    fn(event_json);
  }
  events_.push_back(std::move(event_json));
  if (events_.size() > capacity_) {
    events_.pop_front();
  }
}

std::uint64_t event_store::tap(tap_fn fn) {
  std::lock_guard lock(mutex_);
  taps_.emplace(next_tap_, std::move(fn));
  return next_tap_++;
}

void event_store::untap(std::uint64_t key) {
  std::lock_guard lock(mutex_);
  taps_.erase(key);
}

void event_store::daemon_stopping(int exit_code) {
  json e = event_head("daemon_stopping");
  e["exit_code"] = exit_code;
  std::string line = dump(e);
  std::lock_guard lock(mutex_);
  for (const auto& [conn, path] : log_followers_) {
    out_.push({post_kind::line, conn, line + "\n", 0});
  }
  publish(std::move(line));
}

void event_store::started(const std::string& path, pid child, pid supervisor, bool dynamic) {
  json e;
  std::lock_guard lock(mutex_);
  children_[pid_key(child)] = child_record{path, supervisor, steady_ms()};
  std::uint32_t runs = dynamic ? 0 : starts_[path]++;
  if (runs == 0) {
    e = event_head("process_started");
    e["path"] = path;
    e["pid"] = to_string(term(child));
  } else {
    e = event_head("process_restarted");
    e["path"] = path;
    e["pid"] = to_string(term(child));
    e["restarts"] = runs;
  }
  publish(dump(e));
}

void event_store::exited(const std::string& path, pid child, const term& reason) {
  json e = event_head("process_exited");
  e["path"] = path;
  e["pid"] = to_string(term(child));
  e["reason"] = to_string(reason);
  std::lock_guard lock(mutex_);
  children_.erase(pid_key(child));
  publish(dump(e));
}

void event_store::gave_up(const std::string& path, const term& reason) {
  json e = event_head("supervisor_gave_up");
  e["path"] = path;
  e["reason"] = to_string(reason);
  std::lock_guard lock(mutex_);
  publish(dump(e));
}

void event_store::decided(const std::string& path, const std::string& report_json) {
  constexpr std::size_t kept = 10; // per path: enough to see a crash loop's pattern
  json e = event_head("supervisor_report");
  json body = json::parse(report_json, nullptr, false);
  if (body.is_object()) {
    e.update(body);
  }
  e["path"] = path;
  std::string text = dump(e);
  std::lock_guard lock(mutex_);
  if (exits_.size() >= capacity_ * 10 && !exits_.contains(path)) {
    exits_.erase(exits_.begin()); // dynamic children's paths come and go: keep it bounded
  }
  auto& ring = exits_[path];
  ring.push_back(text);
  if (ring.size() > kept) {
    ring.pop_front();
  }
  publish(std::move(text));
}

std::vector<std::string> event_store::exits(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = exits_.find(path);
  return it == exits_.end() ? std::vector<std::string>{}
                            : std::vector<std::string>(it->second.begin(), it->second.end());
}

void event_store::reloaded(const std::string& plan_json) {
  json e = event_head("config_reloaded");
  e["plan"] = json::parse(plan_json, nullptr, false);
  std::lock_guard lock(mutex_);
  publish(dump(e));
}

void event_store::log_line(const std::string& path, const std::string& stream,
                           const std::string& line) {
  json entry{{"ts", wall_ms()}, {"stream", stream}, {"line", line}};
  json e = event_head("log");
  e["path"] = path;
  e["stream"] = stream;
  e["line"] = line;
  std::string event_line = dump(e) + "\n";
  std::lock_guard lock(mutex_);
  auto& ring = logs_[path];
  ring.lines.push_back(dump(entry));
  ring.bytes += ring.lines.back().size();
  while (ring.lines.size() > log_capacity_ || (ring.bytes > log_bytes_ && ring.lines.size() > 1)) {
    ring.bytes -= ring.lines.front().size();
    ring.lines.pop_front();
  }
  for (const auto& [conn, followed] : log_followers_) {
    if (followed == path) {
      out_.push({post_kind::line, conn, event_line, 0});
    }
  }
}

void event_store::forget_path(const std::string& path) {
  std::lock_guard lock(mutex_);
  starts_.erase(path);
}

std::optional<child_record> event_store::child(pid p) const {
  std::lock_guard lock(mutex_);
  auto it = children_.find(pid_key(p));
  if (it == children_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<std::int64_t> event_store::started_ms(pid p) const {
  std::lock_guard lock(mutex_);
  auto it = children_.find(pid_key(p));
  return it == children_.end() ? std::nullopt : std::optional(it->second.started_ms);
}

std::uint32_t event_store::restarts(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = starts_.find(path);
  return it == starts_.end() || it->second == 0 ? 0 : it->second - 1;
}

std::vector<std::string> event_store::recent(std::size_t n) const {
  std::lock_guard lock(mutex_);
  return tail(events_, n);
}

std::vector<std::string> event_store::logs(const std::string& path, std::size_t n) const {
  std::lock_guard lock(mutex_);
  auto it = logs_.find(path);
  return it == logs_.end() ? std::vector<std::string>{} : tail(it->second.lines, n);
}

std::vector<std::string> event_store::last_lines(const std::string& path, std::string_view stream,
                                                 std::size_t n) const {
  std::vector<std::string> out;
  std::lock_guard lock(mutex_);
  auto it = logs_.find(path);
  if (it == logs_.end()) {
    return out;
  }
  const auto& lines = it->second.lines;
  for (auto line = lines.rbegin(); line != lines.rend() && out.size() < n; ++line) {
    json entry = json::parse(*line, nullptr, false);
    if (entry.is_object() && entry.value("stream", "") == stream) {
      out.push_back(entry.value("line", ""));
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

void event_store::follow_events(std::uint64_t conn, std::size_t n, const reply_builder& reply) {
  std::lock_guard lock(mutex_);
  out_.push({post_kind::line, conn, reply(tail(events_, n)), 0});
  event_followers_.insert(conn);
}

void event_store::follow_logs(std::uint64_t conn, const std::string& path, std::size_t n,
                              const reply_builder& reply) {
  std::lock_guard lock(mutex_);
  auto it = logs_.find(path);
  out_.push({post_kind::line, conn,
             reply(it == logs_.end() ? std::vector<std::string>{} : tail(it->second.lines, n)), 0});
  log_followers_[conn] = path;
}

void event_store::unfollow(std::uint64_t conn) {
  std::lock_guard lock(mutex_);
  event_followers_.erase(conn);
  log_followers_.erase(conn);
}

} // namespace vigil::daemon
