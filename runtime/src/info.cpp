// SPDX-License-Identifier: Apache-2.0
#include "runtime_impl.hpp"

#include <string>
#include <string_view>
#include <thread>

namespace vigil {
namespace {

atom status_atom(process_status s) {
  switch (s) {
  case process_status::runnable: return atom("runnable");
  case process_status::running: return atom("running");
  case process_status::waiting: return atom("waiting");
  case process_status::exiting: return atom("exiting");
  }
  return atoms::undefined;
}

/// A source file as the compiler named it, relative to the source tree: Ninja passes paths
/// relative to the build directory ("../../workers/src/echo.cpp"), which say nothing to a
/// user reading `Process.info`.
std::string_view source_relative(std::string_view file) {
  while (file.starts_with("../") || file.starts_with("./")) {
    file.remove_prefix(file.find('/') + 1);
  }
  return file;
}

term pid_list(const std::vector<pid>& pids) {
  std::vector<term> items(pids.begin(), pids.end());
  return term::list(items);
}

} // namespace

term process_info::to_term() const {
  auto kv = [](const char* key, term value) { return term::tuple({atom(key), std::move(value)}); };
  std::vector<term> items = {
      kv("current_function", term(current_function)),
      kv("initial_call", term(initial_call)),
      kv("status", status_atom(status)),
      kv("message_queue_len", static_cast<std::int64_t>(message_queue_len)),
      kv("messages", term::list(messages)),
      kv("links", pid_list(links)),
      kv("monitors", pid_list(monitors)),
      kv("monitored_by", pid_list(monitored_by)),
      kv("trap_exit", term(trap_exit)),
      kv("memory", static_cast<std::int64_t>(memory)),
      kv("reductions", static_cast<std::int64_t>(reductions)),
  };
  if (registered_name) {
    items.push_back(kv("registered_name", *registered_name));
  }
  if (dropped != 0) {
    items.push_back(kv("dropped", static_cast<std::int64_t>(dropped)));
  }
  if (long_running) {
    items.push_back(kv("long_running", term(true)));
  }
  return term::list(items);
}

namespace detail {

process_info runtime_impl::snapshot(process* p) const {
  process_info out;
  out.self = p->id();
  if (p->wait == wait_kind::receive && p->current_where.line() != 0) {
    out.current_function = std::string(source_relative(p->current_where.file_name())) + ":"
                           + std::to_string(p->current_where.line());
  }
  out.initial_call = p->initial_call != nullptr ? p->initial_call : "anonymous";
  // What the process does apart from answering this request, which may have woken it.
  switch (p->wait) {
  case wait_kind::receive:
  case wait_kind::blocking: out.status = process_status::waiting; break;
  case wait_kind::exiting: out.status = process_status::exiting; break;
  default:
    out.status = scheduler::current() == p ? process_status::running : process_status::runnable;
  }
  out.message_queue_len = p->mailbox_len;
  out.memory = sizeof(process) + p->frame_bytes;
  for (signal* s = p->mailbox_head; s != nullptr; s = s->next) {
    out.messages.push_back(s->payload);
    out.memory += sizeof(signal) + s->payload.heap_bytes();
  }
  if (p->rel != nullptr) {
    out.links = p->rel->links;
    for (const auto& m : p->rel->monitors) {
      out.monitors.push_back(m.other);
    }
    for (const auto& m : p->rel->monitored_by) {
      out.monitored_by.push_back(m.other);
    }
    out.memory += sizeof(relations) + out.links.size() * sizeof(pid)
                  + (p->rel->monitors.size() + p->rel->monitored_by.size()) * sizeof(monitor_entry);
  }
  out.trap_exit = p->trapping;
  out.registered_name = names.name_of(p->id());
  out.reductions = p->reductions;
  out.dropped = p->dropped;
  out.long_running = p->long_running.load(std::memory_order_relaxed);
  return out;
}

std::optional<process_info> runtime_impl::info(pid target) {
  process* p = find(target);
  if (p == nullptr) {
    return std::nullopt;
  }
  if (scheduler::current() == p
      || (p->external.load(std::memory_order_acquire) && p->owner == std::this_thread::get_id())) {
    return snapshot(p); // a process asking about itself
  }
  info_request req;
  deliver(target, signal_kind::info, pid{}, term(), reinterpret_cast<std::uint64_t>(&req));
  std::unique_lock lock(req.mutex);
  req.cv.wait(lock, [&] { return req.done; });
  return std::move(req.answer);
}

} // namespace detail
} // namespace vigil
