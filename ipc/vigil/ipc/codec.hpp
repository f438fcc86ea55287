// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/term/term.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

/// The binary term codec: how terms cross the shared-memory rings between the daemon and
/// its OS-process workers, and any socket that carries terms.
///
/// A frame is a 5-byte header (version byte 1, then the body length as a little-endian u32)
/// followed by one encoded term. Atoms travel by name, since atom ids are per process.
/// `docs/wire-format.md` gives the exact bytes, for implementations in other languages.
///
/// The decoder treats its input as hostile (a worker may be compromised): it never reads
/// past the buffer, bounds nesting depth without recursing, checks every count and length
/// against the bytes that remain before it allocates anything, and reports any malformed
/// frame as an error, never a crash.
namespace vigil::ipc {

/// The format version this codec writes and the only one it reads.
inline constexpr std::uint8_t wire_version = 1;

/// Bytes in a frame header: the version byte and the u32 body length.
inline constexpr std::size_t header_size = 5;

/// Bounds that the decoder enforces on a frame from outside the program.
struct decode_limits {
  /// The most containers (tuples, lists, maps) nested inside one another; a top-level
  /// container is at depth 1, so `[[1]]` has depth 2. Scalars do not count. Keep it modest:
  /// the decoder does not recurse, but comparing, hashing and printing terms do.
  std::uint32_t max_depth = 64;
  /// The largest accepted body length, in bytes (the header not included).
  std::uint32_t max_frame_bytes = 16U << 20;
  /// Whether an atom name not yet interned may be interned. Atoms are never freed, so a
  /// peer that sends endless new names fills the process-wide table; set this to false for
  /// untrusted peers that need only atoms the program already knows (Erlang's `safe`).
  bool create_atoms = true;
  /// With `create_atoms`, each new atom also takes one from this budget when it is given:
  /// a peer may intern a bounded number of names of its own.
  atom_budget* new_atoms = nullptr;
};

/// Appends one whole frame holding `t` to `out`, growing `out` once to the exact size. Never
/// recurses, however deep `t` is. Aborts if the body would exceed 4 GiB - 1 bytes, the most
/// its u32 length can state.
void encode(const term& t, std::string& out);

/// One whole frame holding `t`.
[[nodiscard]] std::string encode(const term& t);

/// The bytes of the frame `encode(t)` makes, header included.
[[nodiscard]] std::size_t encoded_size(const term& t);

/// Writes the frame for `t` into the start of `out`, which must hold at least
/// `encoded_size(t)` bytes (say, a slot reserved in a ring), and returns the bytes written.
std::size_t encode_into(const term& t, std::span<std::byte> out);

/// Decodes exactly one frame: `frame` must hold one header and the body it announces, and
/// nothing after it. Never recurses; memory use is linear in the body's length.
///
/// Errors: `errc::decode_error` for a truncated, corrupt or non-canonical buffer, an unknown
/// version or tag, trailing bytes, or a map with a repeated key; `errc::limit_exceeded` for
/// a body over `max_frame_bytes`, nesting over `max_depth`, an atom name over 255 bytes, a
/// full atom table, or a new atom when `create_atoms` is false. The context names the byte offset
/// from the start of the frame, as "offset 17: truncated string (needs 40 bytes, 3 left)".
[[nodiscard]] result<term> decode(std::span<const std::byte> frame, decode_limits limits = {});

/// `decode` over the bytes of `frame`.
[[nodiscard]] result<term> decode(std::string_view frame, decode_limits limits = {});

/// For streaming readers: the total size (header included) of the frame that starts at
/// `prefix`, once at least its `header_size` bytes are present. Fails as `decode` would
/// for a short prefix, an unknown version or a body over `limits.max_frame_bytes`.
[[nodiscard]] result<std::size_t> frame_size(std::span<const std::byte> prefix,
                                             decode_limits limits = {});

} // namespace vigil::ipc
