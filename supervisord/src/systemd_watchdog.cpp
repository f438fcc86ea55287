// SPDX-License-Identifier: Apache-2.0
// systemd_watchdog (systemd_watchdog.hpp): WATCHDOG_USEC read, pings sent only while a
// probe process runs on the schedulers, and the hangs VIGIL_TEST_HANG simulates for tests.
#include "systemd_watchdog.hpp"

#include "notify.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace vigil::daemon {
namespace {

template <typename T>
std::optional<T> parse_number(const char* text) {
  if (text == nullptr) {
    return std::nullopt;
  }
  std::string_view s(text);
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return value;
}

/// The probe: it only records that a scheduler ran it.
task<> probe(context&, std::shared_ptr<std::atomic<std::uint64_t>> answered, std::uint64_t seq) {
  answered->store(seq, std::memory_order_release);
  co_return;
}

/// A process that never gives its scheduler thread back (the "schedulers" hang).
task<> hog(context&) {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::hours(1));
  }
  co_return;
}

} // namespace

std::optional<std::chrono::microseconds> watchdog_timeout(const char* usec, const char* pid,
                                                          pid_t self) {
  if (pid != nullptr) {
    auto owner = parse_number<pid_t>(pid);
    if (!owner || *owner != self) {
      return std::nullopt;
    }
  }
  auto value = parse_number<std::uint64_t>(usec);
  // systemd's own bound: USEC_INFINITY and zero mean no watchdog.
  if (!value || *value == 0 || *value >= std::uint64_t{1} << 62U) {
    return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(*value));
}

std::optional<std::chrono::microseconds> watchdog_timeout_from_env() {
  // Read once, before any thread changes the environment (none does).
  return watchdog_timeout(std::getenv("WATCHDOG_USEC"), // NOLINT(concurrency-mt-unsafe)
                          std::getenv("WATCHDOG_PID"),  // NOLINT(concurrency-mt-unsafe)
                          ::getpid());
}

systemd_watchdog::systemd_watchdog(runtime& rt, std::chrono::microseconds timeout)
    : rt_(rt), interval_(std::max<clock::duration>(timeout / 2, std::chrono::milliseconds(1))),
      next_(clock::now()), last_ping_(clock::now()),
      answered_(std::make_shared<std::atomic<std::uint64_t>>(0)), started_(clock::now()) {
  spdlog::info("systemd watchdog: {} ms, pinging every {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count(),
               std::chrono::duration_cast<std::chrono::milliseconds>(interval_).count());
}

int systemd_watchdog::wait_ms() const {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(next_ - clock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 1'000'000));
}

void systemd_watchdog::tick(const std::string& status) {
  auto now = clock::now();
  if (now < next_) {
    return;
  }
  next_ = now + interval_;
  simulate_hang_for_tests(rt_, now - started_);
  if (probe_answered()) {
    std::string message = "WATCHDOG=1";
    if (status != last_status_) {
      message += "\nSTATUS=" + status;
      last_status_ = status;
    }
    notify_systemd(message);
    if (withheld_ > 0 && now - last_ping_ > 2 * interval_) {
      spdlog::info("systemd watchdog: the schedulers answer again");
    }
    last_ping_ = now;
    ++pings_;
    spawn_probe();
    return;
  }
  // The previous probe is still waiting for a scheduler: no ping, and no new probe, so that
  // a stuck runtime does not pile them up. systemd stops vigild when the timeout passes.
  ++withheld_;
  auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_ping_).count();
  spdlog::error("systemd watchdog: no scheduler has run the probe process for {} ms; "
                "not pinging systemd",
                silent);
  std::string unhealthy =
      "unhealthy: schedulers not responding for " + std::to_string(silent) + " ms";
  notify_systemd("STATUS=" + unhealthy);
  last_status_ = unhealthy;
}

void systemd_watchdog::spawn_probe() {
  ++sent_;
  if (auto p = rt_.spawn_opt(spawn_options{}, probe, answered_, sent_); !p) {
    // Out of processes is not a hang: count the probe as answered and say why.
    spdlog::warn("systemd watchdog: unable to spawn a probe: {}", p.error().message());
    answered_->store(sent_, std::memory_order_release);
  }
}

void simulate_hang_for_tests(runtime& rt, std::chrono::steady_clock::duration since_start) {
  static bool done = false;
  const char* mode = std::getenv("VIGIL_TEST_HANG"); // NOLINT(concurrency-mt-unsafe)
  if (done || mode == nullptr) {
    return;
  }
  auto after = parse_number<std::int64_t>(
                   std::getenv("VIGIL_TEST_HANG_AFTER_MS")) // NOLINT(concurrency-mt-unsafe)
                   .value_or(0);
  if (since_start < std::chrono::milliseconds(after)) {
    return;
  }
  done = true;
  if (std::strcmp(mode, "loop") == 0) {
    spdlog::warn("VIGIL_TEST_HANG=loop: the event loop hangs now");
    spdlog::default_logger()->flush();
    for (;;) {
      ::pause();
    }
  }
  if (std::strcmp(mode, "schedulers") == 0) {
    spdlog::warn("VIGIL_TEST_HANG=schedulers: blocking every scheduler thread now");
    // Twice as many as there are threads: work stealing hands each idle thread one.
    for (unsigned i = 0; i < 2 * rt.schedulers(); ++i) {
      (void)rt.spawn_opt(spawn_options{}, hog);
    }
  }
}

} // namespace vigil::daemon
