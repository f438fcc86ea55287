// SPDX-License-Identifier: Apache-2.0
// runtime_impl's process table: how many schedulers, slots claimed and discarded, spawn,
// pid lookup, delivery of signals and the wake-up it needs, timers, and shutdown.
#include "runtime_impl.hpp"

#include "vigil/runtime/runtime.hpp"

#include "pool.hpp"
#include "region_reserve.hpp"

#include <cstdio>
#include <random>
#include <thread>

namespace vigil::detail {
namespace {

unsigned scheduler_count(const runtime_options& o) {
  if (o.schedulers != 0) {
    return o.schedulers;
  }
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

} // namespace

runtime_impl::runtime_impl(runtime& rt, runtime_options opts)
    : owner(rt), options(opts), table(opts.max_processes, opts.prefault),
      scheduler_(scheduler_count(opts), [](process* p) { p->rt()->run(p); }),
      timers([this](pid target, std::uint64_t seq) {
        deliver(target, signal_kind::timeout, pid{}, term(), seq);
      }),
      pool(opts.blocking_threads),
      watchdog_(
          scheduler_, opts.long_run_warning,
          opts.on_warning ? opts.on_warning : [](const std::string& line) {
            std::fprintf(stderr, "vigil: warning: %s\n", line.c_str());
          }) {
  // The low half of every reference is random per runtime, so that references survive a
  // daemon restart without colliding with ones a client still holds.
  std::random_device rd;
  ref_salt_ = rd();
  scheduler_.start();
  if (options.prefault) {
    region_reserve::want();
  }
}

runtime_impl::~runtime_impl() {
  shutdown();
  if (options.prefault) {
    region_reserve::unwant();
  }
}

reference runtime_impl::make_ref() noexcept {
  std::uint64_t n = next_ref.fetch_add(1, std::memory_order_relaxed);
  return reference{options.ref_node, static_cast<std::uint32_t>(n >> 32),
                   static_cast<std::uint32_t>(n), ref_salt_};
}

// A free slot, whether a dead process's or one built ahead of use (process_table.cpp), may
// already carry the serial its next process will have; its inbox is closed until then, so a
// forged pid for that future process is not alive.
bool runtime_impl::alive(pid p) const noexcept {
  const process* proc = find(p);
  return proc != nullptr && !proc->signals.closed();
}

process* runtime_impl::claim_slot() {
  if (stopping.load(std::memory_order_acquire)) {
    return nullptr;
  }
  process* p = table.acquire();
  if (p == nullptr) {
    return nullptr;
  }
  pid id{0, p->id().index, p->serial.load(std::memory_order_relaxed)};
  p->set_identity(id, this);
  p->signals.reopen();
  p->exit_reason = term(atoms::normal);
  p->reductions = 0;
  p->dropped = 0;
  p->long_running.store(false, std::memory_order_relaxed);
  live.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void runtime_impl::discard(process* p) noexcept {
  if (p->body) {
    p->body.destroy();
    p->body = {};
  }
  if (p->keep != nullptr) {
    p->drop(p->keep);
    p->keep = nullptr;
  }
  p->mailbox_len_seen.store(0, std::memory_order_relaxed); // a free slot has no mailbox
  p->serial.fetch_add(1, std::memory_order_seq_cst);
  signal* rest = p->signals.close();
  while (rest != nullptr) {
    signal* next = rest->next;
    signal::dispose(rest);
    rest = next;
  }
  p->wait = wait_kind::dead;
  table.release(p);
  release_live();
}

void runtime_impl::release_live() noexcept {
  live.fetch_sub(1, std::memory_order_acq_rel);
  if (stopping.load(std::memory_order_acquire)) {
    std::lock_guard lock(idle_mutex);
    idle_cv.notify_all();
  }
}

result<pid> runtime_impl::spawn(process* parent, spawn_request& req) {
  process* p = claim_slot();
  if (p == nullptr) {
    if (req.keep != nullptr) {
      req.drop(req.keep);
    }
    return error{make_error_code(errc::limit_exceeded),
                 stopping ? "the runtime is shutting down" : "system_limit: too many processes"};
  }
  pid id = p->id();
  p->keep = req.keep;
  p->drop = req.drop;
  p->trapping = req.options.trap_exit;
  p->max_mailbox = static_cast<std::uint32_t>(req.options.max_mailbox);
  p->on_overflow = req.options.on_overflow;
  p->initial_call = req.options.initial_call != nullptr ? req.options.initial_call : req.type_name;
  p->external.store(false, std::memory_order_relaxed);
  try {
    p->body = req.make(req.thunk, p->keep, *p).release();
    p->frame_bytes = static_cast<std::uint32_t>(last_frame_size());
  } catch (...) {
    discard(p);
    return error{make_error_code(errc::invalid_argument), "the process body threw at spawn"};
  }
  if (req.options.name) {
    if (auto r = names.add(*req.options.name, *p, id); !r) {
      discard(p);
      return r.error();
    }
  }
  // Link and monitor before the child can run: no window where it dies unobserved (3).
  if (parent != nullptr && req.link) {
    parent->rels().links.push_back(id);
    p->rels().links.push_back(parent->id());
  }
  if (parent != nullptr && req.monitor) {
    req.monitor_ref = make_ref();
    parent->rels().monitors.push_back({req.monitor_ref, id});
    p->rels().monitored_by.push_back({req.monitor_ref, parent->id()});
  }
  p->resume_point = p->body;
  p->wait = wait_kind::start;
  p->status.store(process_status::runnable, std::memory_order_relaxed);
  scheduler_.schedule(p);
  return id;
}

process* runtime_impl::make_external() {
  process* p = claim_slot();
  if (p == nullptr) {
    return nullptr;
  }
  externals.fetch_add(1, std::memory_order_relaxed);
  p->owner = std::this_thread::get_id();
  p->external.store(true, std::memory_order_release);
  p->trapping = false;
  p->max_mailbox = 0;
  p->initial_call = "mailbox";
  p->wait = wait_kind::ready;
  p->status.store(process_status::running, std::memory_order_relaxed);
  return p;
}

void runtime_impl::wake_external(process* p) {
  p->external_wakeups.fetch_add(1, std::memory_order_release);
  futex_wake(p->external_wakeups);
}

void runtime_impl::answer_dead_message(signal* s) {
  signal::dispose(s); // a message to a dead process is dropped (5): nothing to answer
}

void runtime_impl::send_refilling(process* p, pid from, std::uint32_t serial, term&& message) {
  push_message(p, signal::make(signal_kind::message, from, serial, std::move(message)));
}

void runtime_impl::send_elsewhere(pid to, pid from, term&& message) {
  deliver(to, signal_kind::message, from, std::move(message));
}

bool runtime_impl::deliver(pid to, signal_kind kind, pid from, term payload, std::uint64_t extra) {
  process* p = find(to);
  if (p == nullptr) {
    if (to.node != 0 && kind == signal_kind::message && options.remote_send) {
      // Only a miss gets here, so the hook costs local sends nothing.
      options.remote_send(to, std::move(payload));
      return true;
    }
    if (kind != signal_kind::link && kind != signal_kind::monitor && kind != signal_kind::info) {
      return false; // a send to a dead pid is a silent no-op (5)
    }
    signal* s = signal::make(kind, from, to.serial, std::move(payload));
    s->extra = extra;
    answer_dead(to, s);
    return false;
  }
  signal* s = signal::make(kind, from, to.serial, std::move(payload));
  s->extra = extra;
  switch (p->signals.push(s)) {
  case inbox::push_result::queued: return true;
  case inbox::push_result::woke_owner: wake(p); return true;
  case inbox::push_result::closed: answer_dead(to, s); return false;
  }
  return false;
}

void runtime_impl::arm_timer(process* p, timeout after) {
  auto deadline = timer_service::clock::now() + after;
  p->timer_seq = timers.arm(p->id(), deadline);
  p->timer_fired = false;
}

void runtime_impl::shutdown() {
  if (stopping.exchange(true)) {
    return;
  }
  // Kill every process, then wait until all have released their resources.
  std::uint32_t slots = table.high_water();
  for (std::uint32_t i = 1; i < slots; ++i) {
    process* p = table.slot(i);
    if (p != nullptr && !p->external.load(std::memory_order_relaxed)) {
      deliver(pid{0, i, p->serial.load(std::memory_order_acquire)}, signal_kind::exit, pid{},
              term(atoms::kill));
    }
  }
  {
    std::unique_lock lock(idle_mutex);
    idle_cv.wait(lock, [this] {
      return live.load(std::memory_order_acquire) <= externals.load(std::memory_order_acquire);
    });
  }
  scheduler_.stop();
}

} // namespace vigil::detail
