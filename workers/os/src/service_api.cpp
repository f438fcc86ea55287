// SPDX-License-Identifier: Apache-2.0
// The service's public face; the work is service_core's (service.cpp).
#include "port.hpp"
#include "service_core.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace vigil::os {

term port_info::to_term() const {
  auto u = [](std::uint64_t v) { return term(static_cast<std::int64_t>(v)); };
  return term::map({{atom("os_pid"), static_cast<std::int64_t>(os_pid)},
                    {atom("node"), static_cast<std::int64_t>(node)},
                    {atom("program"), program},
                    {atom("log_key"), log_key},
                    {atom("rss_kb"), rss_kb},
                    {atom("cpu_ms"), cpu_ms},
                    {atom("uptime_ms"), uptime_ms},
                    {atom("restarts"), static_cast<std::int64_t>(restarts)},
                    {atom("ring_to_worker_bytes"), u(ring_to_worker_bytes)},
                    {atom("ring_from_worker_bytes"), u(ring_from_worker_bytes)},
                    {atom("sent"), u(sent)},
                    {atom("received"), u(received)},
                    {atom("dropped"), u(dropped)},
                    {atom("refused"), u(refused)},
                    {atom("attached"), attached},
                    {atom("log_lines_dropped"), u(log_lines_dropped)},
                    {atom("cgroup"), cgroup},
                    {atom("cgroup_procs"), cgroup_procs},
                    {atom("cgroup_memory_bytes"), cgroup_memory_bytes},
                    {atom("cgroup_cpu_usec"), cgroup_cpu_usec},
                    {atom("cgroup_pids"), cgroup_pids},
                    {atom("health"), health.to_term()}});
}

term probe_report::to_term() const {
  return term::map({{atom("ready"), ready},
                    {atom("check"), check},
                    {atom("last_result"), last_result},
                    {atom("last_check_unix_ms"), last_check_unix_ms},
                    {atom("consecutive_failures"), static_cast<std::int64_t>(consecutive_failures)},
                    {atom("status_text"), status_text},
                    {atom("main_pid"), main_pid},
                    {atom("notify_errno"), notify_errno},
                    {atom("stopping"), stopping},
                    {atom("notify_ignored"), static_cast<std::int64_t>(notify_ignored)},
                    {atom("last_watchdog_unix_ms"), last_watchdog_unix_ms},
                    {atom("summary"), summary()}});
}

std::string probe_report::summary() const {
  if (awaits_ready && !ready) {
    std::string text = "waiting: ";
    if (!check.empty() && !last_result.empty() && last_result != "ok") {
      text += check + ": " + last_result;
    } else {
      text += ready_check;
    }
    if (!status_text.empty()) {
      text += " (" + status_text + ")";
    }
    return text;
  }
  if (health_failures == 0 || check != health_check) {
    return "ready";
  }
  if (consecutive_failures == 0) {
    return "healthy";
  }
  return "unhealthy " + std::to_string(consecutive_failures) + "/" + std::to_string(health_failures)
         + ": " + check + ": " + last_result;
}

std::filesystem::path default_log_dir() {
  if (const char* state = std::getenv("STATE_DIRECTORY"); state != nullptr && *state != '\0') {
    std::string first(state);
    return std::filesystem::path(first.substr(0, first.find(':'))) / "logs";
  }
  if (::geteuid() == 0) {
    return "/var/lib/vigil/logs";
  }
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "vigil" / "logs";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "/tmp") / ".local/state/vigil/logs";
}

std::string default_worker_program() {
  if (const char* set = std::getenv("VIGIL_WORKER_PROGRAM"); set != nullptr && *set != '\0') {
    return set;
  }
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = self.parent_path() / "vigil-worker";
    if (::access(beside.c_str(), X_OK) == 0) {
      return beside.string();
    }
#if defined(VIGIL_BUILD_DIR) && defined(VIGIL_WORKER_BUILD_PATH)
    // Only a program that itself runs from the build tree uses the tree's vigil-worker.
    if (self.string().rfind(VIGIL_BUILD_DIR "/", 0) == 0
        && ::access(VIGIL_WORKER_BUILD_PATH, X_OK) == 0) {
      return VIGIL_WORKER_BUILD_PATH;
    }
#endif
  }
  return "vigil-worker";
}

service::service(runtime& rt, service_options options)
    : core_(std::make_shared<detail::service_core>(rt, std::move(options))) {
  if (core_->options.router) {
    core_->options.router->bind(this);
  }
}

service::~service() {
  // Before the core goes: no route may start on a service being destroyed.
  if (core_->options.router) {
    core_->options.router->bind(nullptr);
  }
}

std::function<void(pid, term)> remote_router::hook(std::shared_ptr<remote_router> router) {
  return
      [router = std::move(router)](pid to, term message) { router->route(to, std::move(message)); };
}

void remote_router::bind(service* s) {
  std::unique_lock lock(mutex_);
  service_ = s;
}

void remote_router::route(pid to, term message) const {
  std::shared_lock lock(mutex_);
  if (service_ != nullptr) {
    service_->route(to, std::move(message));
  }
}

result<pid> service::start(context& supervisor, const supervision::child_spec& spec) {
  return core_->start(supervisor, spec);
}

void service::route(pid to, term message) {
  core_->route(to, message);
}

std::optional<pid> service::port_of_node(std::uint32_t node) const {
  auto c = core_->by_node(node);
  return c ? std::optional<pid>(c->port) : std::nullopt;
}

std::optional<port_info> service::info(pid port) const {
  auto c = core_->by_port(port);
  if (!c) {
    return std::nullopt;
  }
  return detail::make_port_info(*c);
}

std::optional<pid_t> service::os_pid(pid port) const {
  return core_->os_pid_of(port);
}

std::vector<log_entry> service::logs(pid port, std::size_t n) const {
  auto key = core_->key_of(port);
  return key ? core_->logs.recent(*key, n) : std::vector<log_entry>{};
}

std::vector<log_entry> service::logs(const std::string& key, std::size_t n) const {
  return core_->logs.recent(key, n);
}

std::size_t service::live_children() const {
  return core_->live();
}

const service_options& service::options() const {
  return core_->options;
}

} // namespace vigil::os
