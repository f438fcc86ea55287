// SPDX-License-Identifier: Apache-2.0
// The hook runner (hooks.hpp). A command hook is spawned in a process group of its own and
// owned in the OS workers' reaper registry (vigil/os/reaper.hpp), so that vigild's SIGCHLD
// handling leaves its status to us; its pidfd tells the loop when it exits, a timer kills
// the group at the timeout. A post hook is one HTTP/1.1 request with Beast, cancelled at the
// timeout.
#include "hooks.hpp"

#include "vigil/config/addresses.hpp"
#include "vigil/os/reaper.hpp"

#include "state.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace vigil::observer {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// The hook event an event of the stream is, or empty.
std::string hook_event_of(const nlohmann::json& e) {
  const std::string name = e.value("event", "");
  if (name == "process_restarted") {
    return "child_restarted";
  }
  if (name == "supervisor_gave_up") {
    return "supervisor_gave_up";
  }
  if (name == "process_exited") {
    const std::string reason = e.value("reason", "");
    // Exits asked for (a stop, a normal end) are not failures; reasons are terms' text.
    const bool asked =
        reason == ":normal" || reason == ":shutdown" || reason.starts_with("{:shutdown,");
    return asked ? std::string() : std::string("child_failed");
  }
  return {};
}

std::string describe(const config::hook_spec& h) {
  return h.post.empty() ? "hook " + h.command.front() : "hook POST " + h.post;
}

} // namespace

struct hook_runner::impl {
  daemon::daemon_state& st;
  asio::io_context io{1};
  std::size_t running = 0;
  std::size_t skipped = 0;
  /// The process groups of the command hooks still running, killed when vigild stops.
  std::set<::pid_t> live;
  std::thread thread;

  explicit impl(daemon::daemon_state& s) : st(s) {}

  void handle(const std::string& text) {
    auto e = nlohmann::json::parse(text, nullptr, false);
    if (!e.is_object()) {
      return;
    }
    const std::string name = hook_event_of(e);
    if (name.empty()) {
      return;
    }
    e["hook"] = name;
    const std::string payload = e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // The running config's hooks: a reload changes them for the next event.
    auto cfg = st.config();
    for (const auto& h : cfg->hooks) {
      if (std::find(h.on.begin(), h.on.end(), name) == h.on.end()) {
        continue;
      }
      if (running >= max_running) {
        if (skipped++ % 100 == 0) {
          spdlog::warn("{}: skipped, {} hooks already running ({} skipped in all)", describe(h),
                       running, skipped);
        }
        continue;
      }
      if (h.post.empty()) {
        run_command(h, payload);
      } else {
        run_post(h, payload);
      }
    }
  }

  void run_command(const config::hook_spec& h, const std::string& payload) {
    int in[2];
    if (::pipe2(in, O_CLOEXEC) != 0) {
      spdlog::warn("{}: cannot run: pipe: {}", describe(h), std::strerror(errno));
      return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawnattr_init(&attr);
    ::posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none;
    sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attr, &none);
    sigset_t all;
    sigfillset(&all);
    ::posix_spawnattr_setsigdefault(&attr, &all);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                          | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    for (const auto& a : h.command) {
      argv.push_back(const_cast<char*>(a.c_str())); // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }
    argv.push_back(nullptr);
    ::pid_t child = 0;
    int rc = 0;
    {
      os::launch_guard guard; // owned from its start: vigild's SIGCHLD leaves it to us
      rc = ::posix_spawnp(&child, argv[0], &fa, &attr, argv.data(), environ);
      if (rc == 0) {
        os::adopt(child);
      }
    }
    ::posix_spawn_file_actions_destroy(&fa);
    ::posix_spawnattr_destroy(&attr);
    ::close(in[0]);
    if (rc != 0) {
      ::close(in[1]);
      spdlog::warn("{}: cannot run: {}", describe(h), std::strerror(rc));
      return;
    }
    // The event fits a pipe's buffer (64 KiB); a hook that does not read it loses the rest.
    (void)::fcntl(in[1], F_SETFL, O_NONBLOCK);
    (void)!::write(in[1], payload.data(), payload.size());
    ::close(in[1]);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
    if (pidfd < 0) {
      ::kill(-child, SIGKILL);
      reap(h, child, -1, false);
      return;
    }
    ++running;
    live.insert(child);
    auto fd = std::make_shared<asio::posix::stream_descriptor>(io, pidfd);
    auto timer = std::make_shared<asio::steady_timer>(io, h.timeout);
    auto timed_out = std::make_shared<bool>(false);
    timer->async_wait([child, timed_out](beast::error_code ec) {
      if (!ec) {
        *timed_out = true;
        ::kill(-child, SIGKILL);
      }
    });
    fd->async_wait(asio::posix::stream_descriptor::wait_read,
                   [this, h, child, fd, timer, timed_out](beast::error_code) {
                     timer->cancel();
                     --running;
                     live.erase(child);
                     reap(h, child, fd->native_handle(), *timed_out);
                     // The group may still hold what the hook started: it goes too.
                     ::kill(-child, SIGKILL);
                   });
  }

  static void reap(const config::hook_spec& h, ::pid_t child, int pidfd, bool timed_out) {
    siginfo_t info{};
    int rc = pidfd >= 0 ? ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
                                   WEXITED)
                        : ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED);
    std::optional<siginfo_t> status;
    if (rc == 0) {
      status = info;
    } else {
      status = os::take_status(child); // reap_orphans reaped it first
    }
    os::disown(child);
    if (timed_out) {
      spdlog::warn("{}: killed after its timeout of {} ms", describe(h), h.timeout.count());
    } else if (status && status->si_code == CLD_EXITED && status->si_status != 0) {
      spdlog::warn("{}: exited with status {}", describe(h), status->si_status);
    } else if (status && status->si_code != CLD_EXITED) {
      spdlog::warn("{}: killed by signal {}", describe(h), status->si_status);
    }
  }

  /// One POST, on its own strand of callbacks; everything it holds lives in `op`.
  struct post_op {
    beast::tcp_stream stream;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    config::hook_spec hook;

    post_op(asio::io_context& io, config::hook_spec h) : stream(io), hook(std::move(h)) {}
  };

  void run_post(const config::hook_spec& h, const std::string& payload) {
    auto url = config::parse_loopback_url(h.post);
    if (!url) {
      return; // the loader refused it already
    }
    auto op = std::make_shared<post_op>(io, h);
    op->req = {http::verb::post, url->target, 11};
    op->req.set(http::field::host, url->host + ":" + std::to_string(url->port));
    op->req.set(http::field::user_agent, "vigild");
    op->req.set(http::field::content_type, "application/json");
    op->req.keep_alive(false);
    op->req.body() = payload;
    op->req.prepare_payload();
    beast::error_code bad;
    asio::ip::tcp::endpoint at(asio::ip::make_address(url->host, bad), url->port);
    if (bad) {
      return;
    }
    ++running;
    op->stream.expires_after(h.timeout);
    op->stream.async_connect(at, [this, op](beast::error_code connected) {
      if (connected) {
        return done(*op, connected);
      }
      http::async_write(op->stream, op->req, [this, op](beast::error_code wrote, std::size_t) {
        if (wrote) {
          return done(*op, wrote);
        }
        http::async_read(op->stream, op->buffer, op->res,
                         [this, op](beast::error_code read, std::size_t) { done(*op, read); });
      });
    });
  }

  void done(post_op& op, beast::error_code ec) {
    --running;
    if (ec == beast::error::timeout) {
      spdlog::warn("{}: abandoned after its timeout of {} ms", describe(op.hook),
                   op.hook.timeout.count());
    } else if (ec) {
      spdlog::warn("{}: {}", describe(op.hook), ec.message());
    } else if (op.res.result_int() >= 300) {
      spdlog::warn("{}: answered {}", describe(op.hook), op.res.result_int());
    }
    beast::error_code ignored;
    op.stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  }
};

hook_runner::hook_runner(daemon::daemon_state& st) : impl_(std::make_unique<impl>(st)) {
  auto work = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
      impl_->io.get_executor());
  impl_->thread = std::thread([this, work]() mutable {
    for (;;) {
      try {
        impl_->io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("hooks: {}", e.what());
      }
    }
  });
  // The guard lives in the thread's closure until stop() lets run() return.
}

hook_runner::~hook_runner() {
  asio::post(impl_->io, [this] {
    for (::pid_t group : impl_->live) {
      ::kill(-group, SIGKILL); // a hook outlives no vigild
    }
    impl_->io.stop();
  });
  impl_->thread.join();
}

void hook_runner::on_event(std::string event_json) {
  asio::post(impl_->io, [this, e = std::move(event_json)] { impl_->handle(e); });
}

} // namespace vigil::observer
