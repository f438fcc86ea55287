// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/ipc/channel.hpp"
#include "vigil/ipc/ring.hpp"
#include "vigil/runtime/runtime.hpp"
#include "vigil/term/term.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

/// The worker's side of a `mode = "process"` child: inside vigil-worker, it connects the
/// channel to the worker's own runtime, so that the kind's code runs unchanged.
///
/// Pids are translated at this boundary. The worker's runtime numbers its own processes with
/// node 0, as every runtime does; the daemon knows them as node N (this incarnation's node).
/// A daemon pid (or another worker's) that arrives in a message becomes a local *proxy*
/// process: what is sent to the proxy goes back out through the channel to the real pid.
/// So `self.send(from, reply)` works whoever `from` is. Proxies are kept for the most
/// recently seen `max_proxies` remote pids; an older one is killed, and a send to it is lost
/// (docs/os-workers.md, "Limits").
namespace vigil::os {

class worker_bridge {
public:
  /// The most proxies alive at once.
  static constexpr std::size_t max_proxies = 10000;

  /// Attaches to the channel behind `fd` for the node `node`; `wake_fd` is the daemon's wake
  /// eventfd (VIGIL_WAKE_FD), or -1. Errors: the channel's.
  [[nodiscard]] static result<std::unique_ptr<worker_bridge>>
  attach(runtime& rt, int fd, std::uint32_t node, int wake_fd = -1);
  worker_bridge(const worker_bridge&) = delete;
  worker_bridge& operator=(const worker_bridge&) = delete;
  /// Stops and joins the bridge thread.
  ~worker_bridge();

  /// Where messages for `:main` (sent to the port) go.
  void set_main(pid main);

  /// Starts the thread that moves frames both ways. Call once.
  void start();

  /// Sends `message` (local pids in it translated) to the remote `to`. Any thread.
  void post(pid remote, const term& message);

  /// Sends {:ready, status_text} after everything posted before: the worker is ready
  /// (`ready = "notify"`). Any thread.
  void post_ready(std::string_view status_text);

  /// Sends {:exit, reason} after everything posted before, then ends the bridge. Any thread.
  void post_exit(const term& reason);

  /// Waits until the bridge has ended: the exit was sent, or the daemon is gone.
  void wait();

  /// The reason given to `post_exit`, or nullopt when the daemon went away first.
  [[nodiscard]] std::optional<term> exit_reason() const;

  /// Incoming translation: this node's pids become local, others become proxies.
  [[nodiscard]] term to_local(const term& t);

  /// Outgoing translation: proxies become their remote pid, local pids this node's.
  [[nodiscard]] term to_remote(const term& t);

  /// Proxies alive now.
  [[nodiscard]] std::size_t proxies() const;

private:
  struct proxy_entry {
    pid local;
    std::list<pid>::iterator age;
  };

  worker_bridge(runtime& rt, ipc::channel ch, std::uint32_t node, int wake_fd);
  void run();
  void loop();
  bool write_out();
  bool read_in();
  void deliver(const term& frame);
  pid proxy_for(pid remote);
  void wake();

  runtime& rt_;
  ipc::channel channel_;
  std::uint32_t node_;
  ipc::ring_header* in_header_ = nullptr;
  ipc::ring_reader reader_;
  ipc::ring_writer writer_;
  pid main_;

  mutable std::mutex out_mutex_;
  std::deque<term> outgoing_; ///< whole frames
  std::optional<term> exit_;
  std::atomic<bool> pending_{false};
  std::atomic<bool> stop_{false};
  std::condition_variable done_cv_;
  bool done_ = false; ///< under out_mutex_

  mutable std::mutex proxy_mutex_;
  std::map<pid, proxy_entry> by_remote_;
  std::map<pid, pid> by_local_;
  std::list<pid> ages_; ///< remote pids, most recently used first

  std::thread thread_;
};

} // namespace vigil::os
