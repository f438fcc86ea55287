// SPDX-License-Identifier: Apache-2.0
// Shared-memory segments: sealed anonymous memfds, or /dev/shm objects named after the
// daemon, child and incarnation; mapped (optionally prefaulted), attached by descriptor or
// name, and the stale named ones removed.
#include "vigil/ipc/segment.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string>
#include <system_error>
#include <utility>

namespace vigil::ipc {

namespace {

/// Largest segment this code maps: far above any sane ring, far below address-space trouble.
constexpr std::size_t max_segment_bytes = std::size_t{1} << 32;

error sys_error(int code, std::string context) {
  return error{std::error_code(code, std::system_category()), std::move(context)};
}

std::size_t round_to_pages(std::size_t size) {
  auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

result<std::byte*> map(int fd, std::size_t size, bool prefault) {
  int flags = MAP_SHARED | (prefault ? MAP_POPULATE : 0);
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, fd, 0);
  if (p == MAP_FAILED) {
    return sys_error(errno,
                     "unable to map a shared-memory segment of " + std::to_string(size) + " bytes");
  }
  return static_cast<std::byte*>(p);
}

result<std::string> random_hex() {
  std::array<unsigned char, 16> raw{};
  std::size_t got = 0;
  while (got < raw.size()) {
    ssize_t n = ::getrandom(raw.data() + got, raw.size() - got, 0);
    if (n < 0 && errno != EINTR) {
      return sys_error(errno, "unable to draw a random segment name");
    }
    got += n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

template <class Int>
bool parse_decimal(std::string_view text, Int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

bool is_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return text.size() == 32;
}

} // namespace

std::string segment_name::str() const {
  return "/" + prefix + "-" + std::to_string(daemon) + "-" + std::to_string(child) + "-"
         + std::to_string(incarnation) + "-" + random;
}

std::optional<segment_name> segment_name::parse(std::string_view name, std::string_view prefix) {
  if (name.starts_with('/')) {
    name.remove_prefix(1);
  }
  if (!name.starts_with(prefix) || name.substr(prefix.size(), 1) != "-") {
    return std::nullopt;
  }
  name.remove_prefix(prefix.size() + 1);
  std::array<std::string_view, 4> parts;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto dash = i + 1 < parts.size() ? name.find('-') : name.size();
    if (dash == std::string_view::npos) {
      return std::nullopt;
    }
    parts[i] = name.substr(0, dash);
    name.remove_prefix(std::min(name.size(), dash + 1));
  }
  segment_name out{std::string(prefix), 0, 0, 0, std::string(parts[3])};
  if (!parse_decimal(parts[0], out.daemon) || out.daemon <= 0 || !parse_decimal(parts[1], out.child)
      || !parse_decimal(parts[2], out.incarnation) || !is_hex(parts[3])) {
    return std::nullopt;
  }
  return out;
}

segment::segment(std::byte* base, std::size_t size, unique_fd fd, std::string name) noexcept
    : base_(base), size_(size), fd_(std::move(fd)), name_(std::move(name)),
      unlink_pending_(!name_.empty()) {}

segment::segment(segment&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), size_(std::exchange(other.size_, 0)),
      fd_(std::move(other.fd_)), name_(std::move(other.name_)),
      unlink_pending_(std::exchange(other.unlink_pending_, false)) {}

segment& segment::operator=(segment&& other) noexcept {
  if (this != &other) {
    release();
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::move(other.fd_);
    name_ = std::move(other.name_);
    unlink_pending_ = std::exchange(other.unlink_pending_, false);
  }
  return *this;
}

segment::~segment() {
  release();
}

void segment::release() noexcept {
  (void)unlink();
  if (base_ != nullptr) {
    ::munmap(base_, size_);
  }
  base_ = nullptr;
  size_ = 0;
  fd_.reset();
}

result<void> segment::unlink() {
  if (!unlink_pending_) {
    return {};
  }
  unlink_pending_ = false;
  if (::shm_unlink(name_.c_str()) != 0 && errno != ENOENT) {
    return sys_error(errno, "unable to remove shared-memory segment " + name_);
  }
  return {};
}

result<segment> segment::create(std::size_t size, bool prefault) {
  if (size == 0 || size > max_segment_bytes) {
    return error{make_error_code(errc::invalid_argument),
                 "segment size " + std::to_string(size) + " is out of range"};
  }
  size = round_to_pages(size);
  unique_fd fd(::memfd_create("vigil-ipc", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) {
    return sys_error(errno, "unable to create an anonymous shared-memory segment");
  }
  if (::fchmod(fd.get(), 0600) != 0 || ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0
      || ::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return sys_error(errno, "unable to size and seal an anonymous shared-memory segment");
  }
  auto base = map(fd.get(), size, prefault);
  if (!base) {
    return base.error();
  }
  return segment(*base, size, std::move(fd), {});
}

result<segment> segment::create_named(std::size_t size, std::uint64_t child,
                                      std::uint64_t incarnation, std::string_view prefix,
                                      bool prefault) {
  if (size == 0 || size > max_segment_bytes || prefix.empty()
      || prefix.find('/') != std::string_view::npos) {
    return error{make_error_code(errc::invalid_argument), "bad named segment size or prefix"};
  }
  size = round_to_pages(size);
  auto random = random_hex();
  if (!random) {
    return random.error();
  }
  auto name = segment_name{std::string(prefix), ::getpid(), child, incarnation, *random}.str();
  unique_fd fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) {
    return sys_error(errno, "unable to create shared-memory segment " + name);
  }
  // From here on the segment's destructor removes the name if anything fails.
  segment out(nullptr, 0, std::move(fd), name);
  if (::fchmod(out.fd(), 0600) != 0 || ::ftruncate(out.fd(), static_cast<off_t>(size)) != 0) {
    return sys_error(errno, "unable to size shared-memory segment " + name);
  }
  auto base = map(out.fd(), size, prefault);
  if (!base) {
    return base.error();
  }
  out.base_ = *base;
  out.size_ = size;
  return out;
}

result<segment> segment::attach(unique_fd fd, bool prefault) {
  struct stat st {};

  if (::fstat(fd.get(), &st) != 0) {
    return sys_error(errno, "unable to inspect the inherited shared-memory descriptor");
  }
  auto size = static_cast<std::size_t>(st.st_size);
  if (st.st_size <= 0 || size > max_segment_bytes) {
    return error{make_error_code(errc::invalid_argument),
                 "inherited shared-memory segment has size " + std::to_string(st.st_size)};
  }
  auto base = map(fd.get(), size, prefault);
  if (!base) {
    return base.error();
  }
  return segment(*base, size, std::move(fd), {});
}

result<segment> segment::open_named(std::string_view name, bool prefault) {
  std::string n(name);
  unique_fd fd(::shm_open(n.c_str(), O_RDWR | O_CLOEXEC, 0));
  if (!fd) {
    return sys_error(errno, "unable to open shared-memory segment " + n);
  }
  (void)::shm_unlink(n.c_str());
  return attach(std::move(fd), prefault);
}

result<std::size_t> segment::remove_stale(std::string_view prefix, std::string_view dir) {
  std::string path(dir);
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    return sys_error(errno, "unable to list " + path);
  }
  std::size_t removed = 0;
  while (dirent* e = ::readdir(d)) {
    auto parsed = segment_name::parse(e->d_name, prefix);

    struct stat st {};

    if (!parsed || ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
        || st.st_uid != ::geteuid()) {
      continue;
    }
    // ESRCH is the only proof of death: EPERM means a live process of another user.
    if (::kill(parsed->daemon, 0) != 0 && errno == ESRCH
        && ::unlinkat(::dirfd(d), e->d_name, 0) == 0) {
      ++removed;
    }
  }
  ::closedir(d);
  return removed;
}

} // namespace vigil::ipc
