// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/common/unique_fd.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vigil::ipc {

/// The name of a named segment, `/<prefix>-<daemon pid>-<child>-<incarnation>-<random>`.
/// `random` (128 bits from getrandom, as 32 hex digits) makes it unguessable; the other parts
/// let `segment::remove_stale` find the segments of a daemon that is gone.
struct segment_name {
  std::string prefix = "vigil";
  pid_t daemon = 0;
  std::uint64_t child = 0;
  std::uint64_t incarnation = 0;
  std::string random;

  /// The name with its leading '/', as shm_open takes it.
  [[nodiscard]] std::string str() const;

  /// Parses a name with or without its leading '/' (as /dev/shm lists it) whose prefix is
  /// `prefix`; nullopt when it is not such a name.
  [[nodiscard]] static std::optional<segment_name> parse(std::string_view name,
                                                         std::string_view prefix = "vigil");
};

/// One shared-memory segment, mapped read-write and shared. Move-only; the destructor unmaps
/// it, closes its descriptor and, for a named segment this side created, removes the name.
///
/// The primary kind is anonymous (`create`): a memfd sealed against growing and shrinking,
/// handed to the child as an inherited descriptor, so no other process can open it by name
/// and the child cannot shrink it under the daemon (which would make the daemon's accesses
/// fault with SIGBUS). The named kind (`create_named`) is a fallback for children that cannot
/// inherit a descriptor; its name is visible in /dev/shm until removed, and it cannot be
/// sealed, so it suits trusted workers only (docs/ipc.md, "Trust model").
class segment {
public:
  segment() noexcept = default;
  segment(segment&& other) noexcept;
  segment& operator=(segment&& other) noexcept;
  segment(const segment&) = delete;
  segment& operator=(const segment&) = delete;
  ~segment();

  /// A new anonymous segment of `size` bytes (rounded up to whole pages), zero-filled, mode
  /// 0600, sealed (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL). The descriptor is close-on-exec:
  /// a spawner passes it to the child with dup2, which clears that flag on the copy.
  /// `prefault` touches every page now rather than on first use (MAP_POPULATE).
  [[nodiscard]] static result<segment> create(std::size_t size, bool prefault = true);

  /// A new named segment of `size` bytes for `child`'s `incarnation`, created exclusively with
  /// mode 0600 under a fresh random name.
  [[nodiscard]] static result<segment> create_named(std::size_t size, std::uint64_t child,
                                                    std::uint64_t incarnation,
                                                    std::string_view prefix = "vigil",
                                                    bool prefault = true);

  /// Maps the segment behind an inherited descriptor, taking ownership of it.
  [[nodiscard]] static result<segment> attach(unique_fd fd, bool prefault = true);

  /// Opens and maps a named segment, then removes its name at once, so that no third process
  /// can open it from then on.
  [[nodiscard]] static result<segment> open_named(std::string_view name, bool prefault = true);

  /// Removes the named segments `/<prefix>-<pid>-...` that belong to this user and whose
  /// daemon pid no longer runs: what a crashed daemon left. Returns how many it removed.
  /// A daemon calls it once at start. A recycled pid keeps a stale segment until that
  /// process ends too; a name of a live daemon is never removed.
  [[nodiscard]] static result<std::size_t> remove_stale(std::string_view prefix = "vigil",
                                                        std::string_view dir = "/dev/shm");

  /// The mapped bytes; empty for a default-constructed segment.
  [[nodiscard]] std::span<std::byte> bytes() const noexcept { return {base_, size_}; }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// The descriptor behind the mapping, or -1 once closed.
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

  /// Closes the descriptor; the mapping stays. The creator closes it once the child holds
  /// its copy.
  void close_fd() noexcept { fd_.reset(); }

  /// The name (with '/'), or empty for an anonymous segment.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// Removes the name, if it still exists; an anonymous segment has none. Idempotent.
  result<void> unlink();

private:
  segment(std::byte* base, std::size_t size, unique_fd fd, std::string name) noexcept;
  void release() noexcept;

  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  unique_fd fd_;
  std::string name_;
  bool unlink_pending_ = false;
};

} // namespace vigil::ipc
