// SPDX-License-Identifier: Apache-2.0
// worker_bridge (worker_bridge.hpp), inside vigil-worker: frames from the channel delivered
// to the worker's runtime, daemon pids turned into local proxies and back, and the
// thread that reads and writes the channel.
#include "vigil/os/worker_bridge.hpp"

#include "vigil/worker_sdk/envelope.hpp"

#include "pid_map.hpp"
#include "ring_wait.hpp"

namespace vigil::os {
namespace {

constexpr std::chrono::milliseconds idle_check{250};
constexpr std::chrono::milliseconds full_wait{10};

task<> proxy_body(context& self, worker_bridge* bridge, pid remote) {
  for (;;) {
    auto m = co_await self.receive();
    bridge->post(remote, m.message);
  }
}

} // namespace

result<std::unique_ptr<worker_bridge>> worker_bridge::attach(runtime& rt, int fd,
                                                             std::uint32_t node, int wake_fd) {
  ipc::channel_options options;
  options.limits.create_atoms = true; // the worker trusts its daemon
  options.prefault = false;
  options.liveness_interval = idle_check;
  options.wake_fd = wake_fd;
  auto ch = ipc::channel::attach(unique_fd(fd), options);
  if (!ch) {
    return ch.error();
  }
  std::unique_ptr<worker_bridge> b(new worker_bridge(rt, std::move(*ch), node, wake_fd));
  if (b->in_header_ == nullptr) {
    return error{make_error_code(errc::decode_error), "the channel's rings do not check out"};
  }
  return b;
}

worker_bridge::worker_bridge(runtime& rt, ipc::channel ch, std::uint32_t node, int wake_fd)
    : rt_(rt), channel_(std::move(ch)), node_(node) {
  // The daemon is trusted: its header's offsets were checked by attach.
  auto mem = channel_.memory();
  const auto* h = reinterpret_cast<const ipc::channel_header*>(mem.data());
  auto in = ipc::ring_view::attach(mem.subspan(h->to_attacher_offset));
  auto out = ipc::ring_view::attach(mem.subspan(h->to_creator_offset));
  if (in && out) {
    in_header_ = &in->header();
    reader_ = ipc::ring_reader(*in, ipc::decode_limits{}, wake_fd);
    writer_ = ipc::ring_writer(*out, wake_fd);
  }
}

worker_bridge::~worker_bridge() {
  stop_.store(true);
  wake();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void worker_bridge::set_main(pid main) {
  main_ = main;
}

void worker_bridge::start() {
  thread_ = std::thread([this] { run(); });
}

void worker_bridge::wake() {
  if (in_header_ != nullptr) {
    detail::wake_reader(*in_header_);
  }
}

void worker_bridge::post(pid remote, const term& message) {
  term frame = sdk::make_send(remote, to_remote(message));
  {
    std::lock_guard lock(out_mutex_);
    if (exit_) {
      return; // nothing goes out after the exit
    }
    outgoing_.push_back(std::move(frame));
  }
  pending_.store(true, std::memory_order_seq_cst);
  wake();
}

void worker_bridge::post_ready(std::string_view status_text) {
  {
    std::lock_guard lock(out_mutex_);
    if (exit_) {
      return;
    }
    outgoing_.push_back(sdk::make_ready(status_text));
  }
  pending_.store(true, std::memory_order_seq_cst);
  wake();
}

void worker_bridge::post_exit(const term& reason) {
  {
    std::lock_guard lock(out_mutex_);
    if (exit_) {
      return;
    }
    exit_ = to_remote(reason);
    outgoing_.push_back(sdk::make_exit(*exit_));
  }
  pending_.store(true, std::memory_order_seq_cst);
  wake();
}

void worker_bridge::wait() {
  {
    std::unique_lock lock(out_mutex_);
    done_cv_.wait(lock, [this] { return done_; });
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::optional<term> worker_bridge::exit_reason() const {
  std::lock_guard lock(out_mutex_);
  return exit_;
}

pid worker_bridge::proxy_for(pid remote) {
  std::lock_guard lock(proxy_mutex_);
  if (auto it = by_remote_.find(remote); it != by_remote_.end()) {
    ages_.splice(ages_.begin(), ages_, it->second.age);
    return it->second.local;
  }
  if (by_remote_.size() >= max_proxies) {
    pid oldest = ages_.back();
    auto it = by_remote_.find(oldest);
    rt_.exit(it->second.local, atoms::kill);
    by_local_.erase(it->second.local);
    by_remote_.erase(it);
    ages_.pop_back();
  }
  pid local = rt_.spawn(proxy_body, this, remote);
  ages_.push_front(remote);
  by_remote_.emplace(remote, proxy_entry{local, ages_.begin()});
  by_local_.emplace(local, remote);
  return local;
}

std::size_t worker_bridge::proxies() const {
  std::lock_guard lock(proxy_mutex_);
  return by_remote_.size();
}

term worker_bridge::to_local(const term& t) {
  auto f = [this](pid p) { return p.node == node_ ? pid{0, p.index, p.serial} : proxy_for(p); };
  return detail::map_pids(t, f);
}

term worker_bridge::to_remote(const term& t) {
  auto f = [this](pid p) {
    if (p.node != 0) {
      return p;
    }
    std::lock_guard lock(proxy_mutex_);
    auto it = by_local_.find(p);
    return it != by_local_.end() ? it->second : pid{node_, p.index, p.serial};
  };
  return detail::map_pids(t, f);
}

void worker_bridge::deliver(const term& frame) {
  auto d = sdk::as_send(frame);
  if (!d) {
    return;
  }
  if (d->to.is_atom()) {
    if (d->to.is(sdk::main_tag())) {
      rt_.send(main_, to_local(d->message));
    }
    return;
  }
  pid to = d->to.as_pid();
  if (to.node == node_) {
    rt_.send(pid{0, to.index, to.serial}, to_local(d->message));
  }
}

bool worker_bridge::read_in() {
  for (int n = 0; n < 1024; ++n) {
    auto r = reader_.try_read();
    if (!r) {
      return false; // the daemon broke its own ring: nothing sensible is left to do
    }
    if (!r->has_value()) {
      break;
    }
    deliver(**r);
  }
  return true;
}

/// Writes what is queued; false once the daemon is gone.
bool worker_bridge::write_out() {
  std::deque<term> batch;
  {
    std::lock_guard lock(out_mutex_);
    batch.swap(outgoing_);
    pending_.store(false, std::memory_order_seq_cst);
  }
  while (!batch.empty()) {
    auto r = writer_.try_write(batch.front());
    if (!r || !*r) {
      if (r) {
        if (channel_.remote().exited()) {
          return false;
        }
        writer_.wait_writable(ipc::encoded_size(batch.front()), std::chrono::microseconds(0),
                              full_wait);
        (void)read_in(); // keep delivering while the daemon catches up
        continue;
      }
      // limit_exceeded: a term too big for the ring is dropped, as a full mailbox would.
    }
    batch.pop_front();
  }
  return true;
}

void worker_bridge::run() {
  loop();
  std::lock_guard lock(out_mutex_);
  done_ = true;
  done_cv_.notify_all();
}

void worker_bridge::loop() {
  for (;;) {
    if (!write_out() || !read_in()) {
      return;
    }
    {
      std::lock_guard lock(out_mutex_);
      if (exit_ && outgoing_.empty()) {
        return;
      }
    }
    if (stop_.load()) {
      return;
    }
    detail::wait_input(
        *in_header_, reader_, [this] { return pending_.load() || stop_.load(); }, idle_check);
    if (!reader_.readable() && !pending_.load() && channel_.remote().exited()) {
      return; // the daemon is gone
    }
  }
}

} // namespace vigil::os
