// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

/// A process's state, as `info` reports it.
enum class process_status : std::uint8_t {
  runnable, ///< queued to run
  running,  ///< on a scheduler thread now
  waiting,  ///< suspended in receive, sleep or blocking work
  exiting,  ///< dying: releasing its resources
};

/// What `Process.info(pid)` shows (semantics 20), for a live process.
struct process_info {
  pid self;
  /// Where the process waits: the source location of its pending receive or sleep, as
  /// "file.cpp:42 (function)". Empty while it runs.
  std::string current_function;
  /// The function the process started in (spawn_options::initial_call, or the body's type).
  std::string initial_call;
  process_status status = process_status::runnable;
  std::size_t message_queue_len = 0;
  std::vector<term> messages;
  std::vector<pid> links;
  /// Processes this one monitors, and the processes that monitor it.
  std::vector<pid> monitors;
  std::vector<pid> monitored_by;
  bool trap_exit = false;
  std::optional<atom> registered_name;
  /// Bytes: the control block, the coroutine frames and the queued messages.
  std::size_t memory = 0;
  /// Messages taken and turns run, the unit in which the scheduler budgets a process.
  std::uint64_t reductions = 0;
  /// Messages dropped by a full bounded mailbox.
  std::uint64_t dropped = 0;
  /// Set when the process once held its thread longer than the long-run bound.
  bool long_running = false;

  /// The info as a keyword list in Elixir's shape: [current_function: ..., ...].
  [[nodiscard]] term to_term() const;
};

} // namespace vigil
