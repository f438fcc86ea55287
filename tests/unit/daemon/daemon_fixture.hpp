// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild's parts wired as daemon.cpp's serve() wires them (a real runtime, the built-in kinds,
// the event hub, the OS-worker service, the root supervisor started from a config file),
// without the event loop: the test plays the loop's part. It reads what the sessions post to
// the outbox (session_client), or runs the real server on a socket of its own
// (server_fixture.hpp). Every wait is for an event: a post on the outbox's eventfd, a
// future, a state re-read with eventually().
//
// When the daemon's wiring changes (the event index replacing the hub), this file is the
// one place to follow it.

#include "vigil/runtime/runtime.hpp"
#include "vigil/workers/kind_registry.hpp"

#include "event_store.hpp"
#include "live_reload.hpp"
#include "outbox.hpp"
#include "session.hpp"
#include "state.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>

namespace vigil::os {
class remote_router;
class service;
} // namespace vigil::os

namespace vigil::daemon::test {

using nlohmann::json;

/// How long a wait may take before the test calls it a hang; never a judgement of speed.
inline constexpr std::chrono::milliseconds hang_guard{20000};

/// A private directory for a test's files (config, socket), removed with everything in it.
class temp_dir {
public:
  temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir();

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

/// A config file's text: a `[daemon]` section with `daemon_options` (TOML lines) and
/// cgroups off, since no test here runs an OS child, then `body` (the supervisor tables).
[[nodiscard]] std::string test_config(std::string_view body, std::string_view daemon_options = {});

/// A running daemon without its event loop, its tree started from `config_text`.
class daemon_fixture {
public:
  /// `add_kinds` may register worker kinds beside the built-in ones before the config is
  /// checked, as a plugin would.
  explicit daemon_fixture(std::string_view config_text,
                          const std::function<void(workers::kind_registry&)>& add_kinds = {});
  daemon_fixture(const daemon_fixture&) = delete;
  daemon_fixture& operator=(const daemon_fixture&) = delete;
  /// Stops the tree (unless a shutdown did already) and the runtime.
  ~daemon_fixture();

  [[nodiscard]] runtime& rt() noexcept { return *rt_; }

  [[nodiscard]] daemon_state& st() noexcept { return *st_; }

  /// A mailbox for the test thread.
  [[nodiscard]] mailbox& box() noexcept { return *box_; }

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_.path(); }

  /// Replaces the config file, for the next reload.
  void write_config(std::string_view text);

  /// Starts reload_config in a process of the daemon's; the future holds its result.
  [[nodiscard]] std::future<reload_result> start_reload(bool dry_run = false);
  /// The same, waited for.
  [[nodiscard]] reload_result reload(bool dry_run = false);

  /// The next post for connection `conn` of one of `kinds`, waiting on the outbox; posts for
  /// others are kept for their turn. Fails the test and returns nullopt after hang_guard.
  [[nodiscard]] std::optional<post> next_post(std::uint64_t conn,
                                              std::initializer_list<post_kind> kinds);

private:
  temp_dir dir_;
  std::shared_ptr<os::remote_router> router_;
  std::unique_ptr<runtime> rt_;
  std::unique_ptr<mailbox> box_;
  workers::kind_registry kinds_;
  outbox out_;
  event_store events_{out_};
  std::unique_ptr<daemon_state> st_;
  std::unique_ptr<os::service> os_;
  std::deque<post> posts_;
};

/// One control connection's session, as the event loop drives it: each request line is
/// validated with parse_request (a malformed one queued as its error reply), queued on the
/// session's channel, the session woken, and its reply read back from the outbox.
class session_client {
public:
  explicit session_client(daemon_fixture& d, ::uid_t uid = 0);
  session_client(const session_client&) = delete;
  session_client& operator=(const session_client&) = delete;
  /// Closes the connection: the session ends.
  ~session_client();

  /// Sends one request line and returns the reply, parsed.
  [[nodiscard]] json call(std::string_view line);
  /// Queues request lines at once (as a pipelining client), without waiting.
  void send(std::string_view line);
  /// The next reply line, parsed.
  [[nodiscard]] json reply();

  [[nodiscard]] pid session() const noexcept { return session_; }

  [[nodiscard]] std::uint64_t conn() const noexcept { return channel_->conn(); }

private:
  daemon_fixture& d_;
  std::shared_ptr<session_channel> channel_;
  pid session_;
};

/// The rows of a `status` reply (an empty array for an error).
[[nodiscard]] json rows_of(const json& status_reply);

/// The row of a `status` reply for `path`; an empty object when it has none.
[[nodiscard]] json row_of(const json& status_reply, std::string_view path);

/// True when `reply` is an error with `code`.
[[nodiscard]] bool is_error(const json& reply, std::string_view code);

} // namespace vigil::daemon::test
