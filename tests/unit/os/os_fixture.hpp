// SPDX-License-Identifier: Apache-2.0
#pragma once

// OS-process children under real supervisors. The children are tests/unit/os/test_child.cpp
// (one behaviour per mode), vigil-worker and the SDK example. Waits poll for an event with
// a generous guard: sanitizer builds start their children slowly.

#include "vigil/os/service.hpp"
#include "vigil/supervision/client.hpp"
#include "vigil/supervision/supervisor.hpp"
#include "vigil/workers/child_factory.hpp"
#include "vigil/workers/kind_registry.hpp"

#include "eventually.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vigil::os::test {

using vigil::test::eventually;

using namespace std::chrono_literals;

inline const std::string test_child = VIGIL_OS_TEST_CHILD;

/// Two schedulers, and `remote_send` through `router`.
inline runtime_options routed_options(const std::shared_ptr<remote_router>& router) {
  runtime_options o{.schedulers = 2};
  o.remote_send = remote_router::hook(router);
  return o;
}

class os_test : public ::testing::Test {
public:
  static constexpr timeout guard = 20s;

  os_test();
  ~os_test() override;

  /// The service, made on first use with `opts`.
  service& svc();

  /// A command child running test_child with `args`.
  static supervision::child_spec command(std::string id, std::vector<std::string> args);
  /// A copy of `program` that any user can execute: in the fixture's 0755 directory under
  /// /tmp, since the build tree may sit under a 0700 directory (as /root or `mktemp -d`
  /// are). Empty when another user could still not reach it.
  std::string reachable_copy(const std::string& program);
  /// A kind run in vigil-worker.
  static supervision::child_spec process(std::string id, std::string kind, term args = {});

  /// A root supervisor (one_for_one) over `children`, or a failed test.
  pid start_tree(std::vector<supervision::child_spec> children, std::uint32_t intensity = 3);
  /// The same, returning the start's error text instead.
  result<pid> try_start_tree(std::vector<supervision::child_spec> children,
                             std::uint32_t intensity = 3);

  /// The current process of child `id` under `sup` (its port), or a null pid.
  pid child_pid(pid sup, const std::string& id);
  /// Waits until child `id` runs with a pid other than `old`.
  pid restarted(pid sup, const std::string& id, pid old);

  /// Starts `spec` straight from the test's mailbox, which traps exits: the port's end
  /// arrives as {:EXIT, port, reason} (`exit_reason`).
  pid start_linked(const supervision::child_spec& spec);
  term exit_reason(pid port);

  /// The first line logged under `key` that contains `text`, waiting for it.
  std::optional<std::string> line_with(const std::string& key, const std::string& text);

  /// The test's own pid (its mailbox).
  [[nodiscard]] pid me_pid() const { return box->self(); }

  /// The OS pid behind a port.
  pid_t os_pid(pid port);

  std::filesystem::path dir;
  service_options opts;
  /// As in vigild: sends to a worker's pids from in-process code go through the service.
  std::shared_ptr<remote_router> router = std::make_shared<remote_router>();
  runtime rt{routed_options(router)};
  workers::kind_registry kinds = workers::kind_registry::with_builtins();
  std::unique_ptr<mailbox> box;

private:
  std::unique_ptr<service> svc_;
  std::vector<pid> roots_;
};

/// Whether process `p` is gone (not even a zombie).
bool gone(pid_t p);

/// Zombie children of this process now.
int zombie_children();

/// Descriptors open in this process now.
int open_fds();

} // namespace vigil::os::test
