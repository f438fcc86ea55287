// SPDX-License-Identifier: Apache-2.0
// The public `runtime` and `mailbox`, thin fronts on runtime_impl: spawn, send, exit, names
// and info; a mailbox lets a plain thread be a process that receives.
#include "vigil/runtime/runtime.hpp"

#include "runtime_impl.hpp"

#include <chrono>
#include <climits>
#include <ctime>

namespace vigil {

// -- runtime --------------------------------------------------------------------------------

runtime::runtime(runtime_options options)
    : impl_(std::make_unique<detail::runtime_impl>(*this, options)) {}

runtime::~runtime() {
  shutdown();
}

void runtime::shutdown() {
  impl_->shutdown();
}

result<pid> runtime::spawn_erased(detail::spawn_request& request) {
  return impl_->spawn(nullptr, request);
}

void runtime::send(pid to, term message) {
  impl_->deliver(to, detail::signal_kind::message, pid{}, std::move(message));
}

result<void> runtime::send(atom name, term message) {
  auto to = impl_->names.whereis(name);
  if (!to) {
    return error{make_error_code(errc::not_found),
                 "badarg: no process is registered as :" + std::string(name.name())};
  }
  send(*to, std::move(message));
  return {};
}

void runtime::exit(pid target, term reason) {
  impl_->deliver(target, detail::signal_kind::exit, pid{}, std::move(reason));
}

bool runtime::alive(pid p) const noexcept {
  return impl_->alive(p);
}

std::optional<process_info> runtime::info(pid p) {
  return impl_->info(p);
}

result<void> runtime::register_name(atom name, pid p) {
  detail::process* proc = impl_->find(p);
  if (proc == nullptr) {
    return error{make_error_code(errc::not_found), "badarg: the process is not alive"};
  }
  return impl_->names.add(name, *proc, p);
}

result<void> runtime::unregister_name(atom name) {
  return impl_->names.remove(name);
}

std::optional<pid> runtime::whereis(atom name) const {
  return impl_->names.whereis(name);
}

std::vector<atom> runtime::registered() const {
  return impl_->names.names();
}

std::size_t runtime::process_count() const noexcept {
  return impl_->live.load(std::memory_order_relaxed);
}

unsigned runtime::schedulers() const noexcept {
  return impl_->scheduler_.size();
}

std::unique_ptr<mailbox> runtime::make_mailbox() {
  detail::process* p = impl_->make_external();
  if (p == nullptr) {
    return nullptr;
  }
  return std::unique_ptr<mailbox>(new mailbox(*p));
}

// -- mailbox --------------------------------------------------------------------------------

mailbox::~mailbox() {
  auto& rt = *process_->rt();
  if (process_->wait != detail::wait_kind::dead) {
    rt.drain(process_);
    rt.die(process_);
  }
}

pid mailbox::self() const noexcept {
  return process_->id();
}

context& mailbox::ctx() noexcept {
  return *process_;
}

bool mailbox::alive() const noexcept {
  return process_->wait != detail::wait_kind::dead;
}

received mailbox::receive(timeout after) {
  return receive_matching(matcher::any(), after);
}

received mailbox::receive(const pattern& clause, timeout after) {
  return receive_matching(matcher::of(clause), after);
}

received mailbox::receive(std::span<const pattern> clauses, timeout after) {
  return receive_matching(matcher::of(clauses), after);
}

received mailbox::receive_matching(matcher match, timeout after) {
  using clock = std::chrono::steady_clock;
  auto& rt = *process_->rt();
  auto deadline = after == infinity ? clock::time_point::max() : clock::now() + after;
  auto r = process_->receive_for(match, after);
  for (;;) {
    if (process_->wait == detail::wait_kind::dead) {
      return {};
    }
    std::uint32_t seen = process_->external_wakeups.load(std::memory_order_acquire);
    rt.drain(process_);
    if (process_->wait == detail::wait_kind::exiting) {
      rt.die(process_); // killed: its links and monitors learn it now
      return {};
    }
    if (rt.scan_mailbox(process_, r)) {
      return r.await_resume();
    }
    auto now = clock::now();
    if (now >= deadline) {
      process_->scanned_upto = nullptr;
      return {};
    }
    if (process_->signals.try_block()) {
      std::int64_t ms = -1;
      if (deadline != clock::time_point::max()) {
        ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      }
      detail::futex_wait(process_->external_wakeups, seen, ms);
    }
  }
}

std::vector<term> mailbox::flush() {
  return process_->flush();
}

} // namespace vigil
