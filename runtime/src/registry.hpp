// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/term/term.hpp"

#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace vigil::detail {

class process;

/// Registered names (semantics 18): one name per process, one process per name. A dying
/// process is unregistered before its EXIT and DOWN signals go out (13).
class registry {
public:
  /// Registers `name` for `p`, whose pid is `id`.
  result<void> add(atom name, process& p, pid id);
  result<void> remove(atom name);
  /// Drops the name of a dying process, if it has one.
  void remove_process(process& p, pid id);
  [[nodiscard]] std::optional<pid> whereis(atom name) const;
  [[nodiscard]] std::optional<atom> name_of(pid id) const;
  [[nodiscard]] std::vector<atom> names() const;

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint32_t, pid> by_name_;
  std::unordered_map<std::uint32_t, atom> by_index_;
};

} // namespace vigil::detail
