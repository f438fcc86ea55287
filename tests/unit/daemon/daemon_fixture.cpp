// SPDX-License-Identifier: Apache-2.0
// The daemon's parts for the command, session, reload and server tests, wired as daemon.cpp's
// serve() wires them; and a session's client playing the event loop (daemon_fixture.hpp).
#include "daemon_fixture.hpp"

#include "vigil/config/config.hpp"
#include "vigil/os/service.hpp"
#include "vigil/supervision/client.hpp"
#include "vigil/supervision/supervisor.hpp"
#include "vigil/workers/child_factory.hpp"

#include "config_checks.hpp"
#include "event_hub.hpp"
#include "os_wiring.hpp"
#include "tree_events.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace vigil::daemon::test {
namespace {

/// Control connections of session_client, apart from the server's (which start at 16).
std::atomic<std::uint64_t> next_conn{1'000'000};

} // namespace

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-daemon-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

daemon_fixture::daemon_fixture(std::string_view config_text,
                               const std::function<void(workers::kind_registry&)>& add_kinds)
    : router_(std::make_shared<os::remote_router>()),
      kinds_(workers::kind_registry::with_builtins()) {
  if (add_kinds) {
    add_kinds(kinds_);
  }
  write_config(config_text);
  const auto path = dir() / "vigil.toml";
  // Not strict: the file lies under the temporary directory, which others may write.
  auto loaded = config::load_config(path, make_checks(kinds_, check_mode::boot, false), false);
  if (!loaded) {
    throw std::runtime_error("the test's config does not load:\n"
                             + config::to_string(loaded.error()));
  }
  runtime_options ropts;
  ropts.schedulers = 2;
  ropts.remote_send = os::remote_router::hook(router_);
  rt_ = std::make_unique<runtime>(std::move(ropts));
  box_ = rt_->make_mailbox();
  supervision::supervisor_spec root_spec = loaded->root;
  // Root and the user the test runs as may connect, as to a vigild of that user.
  access_policy policy;
  policy.daemon_uid = ::geteuid();
  st_ = std::make_unique<daemon_state>(*rt_, kinds_, out_, events_, path, std::move(*loaded),
                                       std::move(policy));
  st_->strict_modes = false;
  st_->hub = start_event_hub(*st_);
  os_ = make_os_service(*st_, false, router_);
  st_->os = os_.get();
  st_->factory = workers::make_child_factory(kinds_, *os_);
  st_->sink = tree_sink(*st_);
  supervision::start_options options;
  options.link = false;
  options.events = st_->sink;
  auto root = supervision::start_supervisor(*box_, std::move(root_spec), st_->factory, options);
  if (!root) {
    throw std::runtime_error("the tree did not start: " + root.error().message());
  }
  st_->set_root(*root);
  announce_root(*st_, *root);
}

daemon_fixture::~daemon_fixture() {
  pid root = st_->root();
  if (rt_->alive(root)) {
    st_->retire_root(root);
    (void)supervision::stop_supervisor(*box_, root, atoms::shutdown, timeout(hang_guard));
  }
  box_.reset();
  rt_->shutdown();
  st_->factory = nullptr;
  st_->sink = nullptr;
  st_->os = nullptr;
  os_.reset();
}

void daemon_fixture::write_config(std::string_view text) {
  // A new file renamed over the old: a reload never reads half of it.
  const auto path = dir() / "vigil.toml";
  const auto next = dir() / "vigil.toml.next";
  {
    std::ofstream out(next, std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(next, path);
}

std::future<reload_result> daemon_fixture::start_reload(bool dry_run) {
  auto done = std::make_shared<std::promise<reload_result>>();
  auto result = done->get_future();
  daemon_state& st = *st_;
  rt_->spawn([&st, dry_run, done](context& self) -> task<> {
    done->set_value(co_await reload_config(self, st, dry_run));
  });
  return result;
}

reload_result daemon_fixture::reload(bool dry_run) {
  auto pending = start_reload(dry_run);
  if (pending.wait_for(hang_guard) != std::future_status::ready) {
    ADD_FAILURE() << "the reload did not finish";
    return {};
  }
  return pending.get();
}

std::optional<post> daemon_fixture::next_post(std::uint64_t conn,
                                              std::initializer_list<post_kind> kinds) {
  const auto matches = [&](const post& p) {
    return p.conn == conn && std::find(kinds.begin(), kinds.end(), p.kind) != kinds.end();
  };
  const auto until = std::chrono::steady_clock::now() + hang_guard;
  for (;;) {
    if (auto it = std::find_if(posts_.begin(), posts_.end(), matches); it != posts_.end()) {
      post p = std::move(*it);
      posts_.erase(it);
      return p;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ADD_FAILURE() << "no post for connection " << conn;
      return std::nullopt;
    }
    pollfd pfd{out_.fd(), POLLIN, 0};
    (void)::poll(&pfd, 1, static_cast<int>(left.count()));
    for (auto& p : out_.take()) {
      posts_.push_back(std::move(p));
    }
  }
}

session_client::session_client(daemon_fixture& d, ::uid_t uid)
    : d_(d), channel_(std::make_shared<session_channel>(next_conn.fetch_add(1), uid)) {
  auto started = start_session(d.st(), channel_);
  if (!started) {
    throw std::runtime_error("no session: " + started.error().message());
  }
  session_ = *started;
}

session_client::~session_client() {
  channel_->close();
  d_.rt().send(session_, session_wake());
}

void session_client::send(std::string_view line) {
  auto parsed = parse_request(line);
  if (parsed) {
    channel_->push({std::move(*parsed), std::nullopt, false});
  } else {
    const auto& e = parsed.error();
    channel_->push({request{}, reply_error(e.id, e.code, e.message), false});
  }
  d_.rt().send(session_, session_wake());
}

json session_client::reply() {
  auto p = d_.next_post(conn(), {post_kind::reply});
  if (!p) {
    return json();
  }
  // Written out at once, as to a client that reads everything.
  (void)channel_->reply_written(p->text.size());
  return json::parse(p->text);
}

json session_client::call(std::string_view line) {
  send(line);
  return reply();
}

std::string test_config(std::string_view body, std::string_view daemon_options) {
  std::string text = "[daemon]\ncgroup = \"off\"\n";
  text += daemon_options;
  text += "\n";
  text += body;
  return text;
}

json rows_of(const json& status_reply) {
  // Read with value(): a const json aborts on a missing key, and a failed reply has none.
  json result = status_reply.is_object() ? status_reply.value("result", json::object()) : json();
  return result.is_object() ? result.value("workers", json::array()) : json::array();
}

json row_of(const json& status_reply, std::string_view path) {
  for (const auto& row : rows_of(status_reply)) {
    if (row.value("path", "") == path) {
      return row;
    }
  }
  return json::object();
}

bool is_error(const json& reply, std::string_view code) {
  if (!reply.is_object() || reply.value("ok", true)) {
    return false;
  }
  json error = reply.value("error", json::object());
  return error.is_object() && error.value("code", "") == code;
}

} // namespace vigil::daemon::test
