// SPDX-License-Identifier: Apache-2.0
// The binary term decoder: a frame's header checked against the limits, then its body
// decoded without recursion into per-thread scratch memory, with an error that names the
// offset of anything malformed.
#include "vigil/ipc/codec.hpp"

#include "wire_tags.hpp"

#include <bit>
#include <utility>
#include <vector>

namespace vigil::ipc {
namespace {

using namespace detail; // NOLINT(google-build-using-namespace): the wire tags

constexpr std::size_t max_varint_bytes = 10;

constexpr std::int64_t unzigzag(std::uint64_t u) noexcept {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

error failure(errc code, std::size_t offset, std::string_view what) {
  return {make_error_code(code), "offset " + std::to_string(offset) + ": " + std::string(what)};
}

std::string needs(std::string_view what, std::size_t need, std::size_t left) {
  return "truncated " + std::string(what) + " (needs " + std::to_string(need) + " bytes, "
         + std::to_string(left) + " left)";
}

// A container whose elements are being decoded.
struct open_container {
  std::uint8_t tag;
  std::size_t count;  // entries: elements, or key-value pairs of a map
  std::size_t base;   // index in values of the first element
  std::size_t offset; // of the tag, for messages
};

// The decoder's working memory, kept per thread so that decoding a small frame allocates
// little beyond the term it returns.
struct decode_scratch {
  // Above this, scratch memory goes back to the heap after the decode that needed it.
  static constexpr std::size_t kept_values = 4096;

  std::vector<term> values;
  std::vector<open_container> open;
  std::vector<std::pair<term, term>> entries;

  void reset() {
    if (values.capacity() > kept_values) {
      values = {};
      entries = {};
    }
    values.clear();
    open.clear();
    entries.clear();
  }
};

decode_scratch& thread_scratch() {
  thread_local decode_scratch scratch;
  return scratch;
}

// Decodes one body without recursion: finished terms go on `values_`, and each container
// still being filled sits on `open_` with the index of its first element in `values_`.
// The helpers return false after recording the failure in `failure_`.
class decoder {
public:
  decoder(std::span<const std::byte> frame, decode_limits limits)
      : data_(frame.data()), end_(frame.size()), limits_(limits), scratch_(thread_scratch()) {
    scratch_.reset();
  }

  decoder(const decoder&) = delete;
  decoder& operator=(const decoder&) = delete;
  decoder(decoder&&) = delete;
  decoder& operator=(decoder&&) = delete;

  ~decoder() { scratch_.reset(); }

  result<term> run() {
    do {
      if (!read_term() || !close_complete()) {
        return std::move(failure_);
      }
    } while (!open_.empty());
    if (pos_ != end_) {
      return failure(errc::decode_error, pos_,
                     std::to_string(end_ - pos_) + " trailing bytes after the term");
    }
    return std::move(values_.back());
  }

private:
  [[nodiscard]] std::size_t left() const noexcept { return end_ - pos_; }

  std::uint8_t next_byte() noexcept { return std::to_integer<std::uint8_t>(data_[pos_++]); }

  bool fail(errc code, std::size_t offset, std::string_view what) {
    failure_ = failure(code, offset, what);
    return false;
  }

  bool read_term() {
    auto at = pos_;
    if (left() == 0) {
      return fail(errc::decode_error, at, needs("term", 1, 0));
    }
    auto tag = next_byte();
    switch (tag) {
    case tag_integer: return read_integer();
    case tag_float: return read_float();
    case tag_atom: return read_atom();
    case tag_string: return read_string();
    case tag_pid: return read_pid();
    case tag_reference: return read_reference();
    case tag_tuple:
    case tag_list:
    case tag_map: return open(tag, at);
    default: return fail(errc::decode_error, at, "unknown tag " + std::to_string(tag));
    }
  }

  bool read_varint(std::uint64_t& out, std::string_view what) {
    if (pos_ < end_ && std::to_integer<std::uint8_t>(data_[pos_]) < 0x80) {
      out = next_byte(); // the common one-byte case
      return true;
    }
    return read_long_varint(out, what);
  }

  // Little-endian base-128, at most 10 bytes, in its shortest form.
  bool read_long_varint(std::uint64_t& out, std::string_view what) {
    auto at = pos_;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < max_varint_bytes; ++i) {
      if (left() == 0) {
        return fail(errc::decode_error, at, needs(what, i + 1, 0));
      }
      auto b = next_byte();
      if (i == max_varint_bytes - 1 && b > 1) {
        return fail(errc::decode_error, at,
                    std::string(what)
                        + (b & 0x80 ? " is longer than 10 bytes" : " overflows 64 bits"));
      }
      v |= std::uint64_t{b & 0x7fU} << (7 * i);
      if (b < 0x80) {
        if (b == 0 && i > 0) {
          return fail(errc::decode_error, at, std::string(what) + " is not in shortest form");
        }
        out = v;
        return true;
      }
    }
    return false; // not reached: the tenth byte either ends the varint or fails above
  }

  bool read_u32(std::uint32_t& out, std::string_view what) {
    auto at = pos_;
    std::uint64_t v = 0;
    if (!read_varint(v, what)) {
      return false;
    }
    if (v > UINT32_MAX) {
      return fail(errc::decode_error, at, std::string(what) + " exceeds 32 bits");
    }
    out = static_cast<std::uint32_t>(v);
    return true;
  }

  // A length that the remaining bytes can satisfy.
  bool read_length(std::size_t& out, std::string_view what, std::size_t max) {
    auto at = pos_;
    std::uint64_t n = 0;
    if (!read_varint(n, what)) {
      return false;
    }
    if (n > max) {
      return fail(errc::limit_exceeded, at,
                  std::string(what) + " of " + std::to_string(n) + " bytes exceeds "
                      + std::to_string(max));
    }
    if (n > left()) {
      return fail(errc::decode_error, at, needs(what, n, left()));
    }
    out = static_cast<std::size_t>(n);
    return true;
  }

  std::string_view take(std::size_t n) noexcept {
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

  bool read_integer() {
    std::uint64_t v = 0;
    bool ok = read_varint(v, "integer");
    if (ok) {
      values_.emplace_back(unzigzag(v));
    }
    return ok;
  }

  bool read_float() {
    if (left() < 8) {
      return fail(errc::decode_error, pos_, needs("float", 8, left()));
    }
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) {
      bits |= std::uint64_t{next_byte()} << (8 * i);
    }
    values_.emplace_back(std::bit_cast<double>(bits));
    return true;
  }

  bool read_atom() {
    auto at = pos_;
    std::size_t n = 0;
    if (!read_length(n, "atom name", atom::max_length)) {
      return false;
    }
    auto name = take(n);
    std::optional<atom> a;
    if (!limits_.create_atoms) {
      a = atom::find(name);
    } else if (limits_.new_atoms != nullptr) {
      a = atom::try_make(name, *limits_.new_atoms);
    } else {
      a = atom::try_make(name);
    }
    if (!a) {
      return fail(errc::limit_exceeded, at,
                  !limits_.create_atoms ? "unknown atom (creating atoms is disabled)"
                  : limits_.new_atoms != nullptr
                      ? "new atom refused: this peer's atom budget is spent"
                      : "atom table is full");
    }
    values_.emplace_back(*a);
    return true;
  }

  bool read_string() {
    std::size_t n = 0;
    bool ok = read_length(n, "string", SIZE_MAX);
    if (ok) {
      values_.emplace_back(take(n));
    }
    return ok;
  }

  bool read_pid() {
    pid p;
    bool ok = read_u32(p.node, "pid node") && read_u32(p.index, "pid index")
              && read_u32(p.serial, "pid serial");
    if (ok) {
      values_.emplace_back(p);
    }
    return ok;
  }

  bool read_reference() {
    auto at = pos_;
    reference r;
    if (!read_u32(r.node, "reference node") || !read_u32(r.a, "reference word")
        || !read_u32(r.b, "reference word") || !read_u32(r.c, "reference word")) {
      return false;
    }
    if (r.node > reference::max_node) {
      return fail(errc::decode_error, at, "reference node exceeds 24 bits");
    }
    values_.emplace_back(r);
    return true;
  }

  // Reads a container's count; an empty one is done at once, others wait for elements.
  bool open(std::uint8_t tag, std::size_t at) {
    if (open_.size() >= limits_.max_depth) {
      return fail(errc::limit_exceeded, at,
                  "nesting exceeds max_depth " + std::to_string(limits_.max_depth));
    }
    std::uint64_t count = 0;
    if (!read_varint(count, "count")) {
      return false;
    }
    // Every term takes at least 2 bytes, so this bounds what a count can make us allocate.
    std::size_t min_entry = tag == tag_map ? 4 : 2;
    if (count > left() / min_entry) {
      return fail(errc::decode_error, at,
                  "count " + std::to_string(count) + " cannot fit in the " + std::to_string(left())
                      + " bytes left");
    }
    open_.push_back({tag, static_cast<std::size_t>(count), values_.size(), at});
    return true;
  }

  // Builds every innermost container whose elements are all decoded.
  bool close_complete() {
    while (!open_.empty()) {
      auto top = open_.back();
      auto width = top.tag == tag_map ? 2 * top.count : top.count;
      if (values_.size() - top.base != width) {
        return true;
      }
      std::span<const term> elements(values_.data() + top.base, width);
      term built = top.tag == tag_map     ? build_map(top.base)
                   : top.tag == tag_tuple ? term::tuple(elements)
                                          : term::list(elements);
      if (built.size() != top.count) { // term::map keeps one entry per key
        return fail(errc::decode_error, top.offset, "map repeats a key");
      }
      values_.resize(top.base);
      values_.push_back(std::move(built));
      open_.pop_back();
    }
    return true;
  }

  term build_map(std::size_t base) {
    entries_.clear();
    for (std::size_t i = base; i < values_.size(); i += 2) {
      entries_.emplace_back(std::move(values_[i]), std::move(values_[i + 1]));
    }
    return term::map(entries_);
  }

  const std::byte* data_;
  std::size_t pos_ = header_size;
  std::size_t end_;
  decode_limits limits_;
  decode_scratch& scratch_;
  std::vector<term>& values_ = scratch_.values;
  std::vector<open_container>& open_ = scratch_.open;
  std::vector<std::pair<term, term>>& entries_ = scratch_.entries;
  error failure_;
};

// Checks a frame header and returns the body length it announces.
result<std::size_t> read_header(std::span<const std::byte> prefix, decode_limits limits) {
  if (prefix.size() < header_size) {
    return failure(errc::decode_error, 0, needs("header", header_size, prefix.size()));
  }
  auto version = std::to_integer<std::uint8_t>(prefix[0]);
  if (version != wire_version) {
    return failure(errc::decode_error, 0, "unsupported version " + std::to_string(version));
  }
  std::size_t body = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    body |= std::size_t{std::to_integer<std::uint8_t>(prefix[1 + i])} << (8 * i);
  }
  if (body > limits.max_frame_bytes) {
    return failure(errc::limit_exceeded, 1,
                   "body of " + std::to_string(body) + " bytes exceeds "
                       + std::to_string(limits.max_frame_bytes));
  }
  return body;
}

} // namespace

result<std::size_t> frame_size(std::span<const std::byte> prefix, decode_limits limits) {
  auto body = read_header(prefix, limits);
  if (!body) {
    return body.error();
  }
  return header_size + *body;
}

result<term> decode(std::span<const std::byte> frame, decode_limits limits) {
  auto size = frame_size(frame, limits);
  if (!size) {
    return size.error();
  }
  if (frame.size() < *size) {
    return failure(errc::decode_error, header_size,
                   needs("body", *size - header_size, frame.size() - header_size));
  }
  if (frame.size() > *size) {
    return failure(errc::decode_error, *size,
                   std::to_string(frame.size() - *size) + " trailing bytes after the frame");
  }
  return decoder(frame, limits).run();
}

result<term> decode(std::string_view frame, decode_limits limits) {
  return decode(std::as_bytes(std::span(frame.data(), frame.size())), limits);
}

} // namespace vigil::ipc
