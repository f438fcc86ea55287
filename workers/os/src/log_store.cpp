// SPDX-License-Identifier: Apache-2.0
// log_store: workers' output lines kept in a ring per key and appended to a file per key,
// rotated by size; a file that cannot be written is reported once and its lines counted as
// dropped until it works again.
#include "vigil/os/log_store.hpp"

#include "vigil/common/file_trust.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <system_error>

namespace vigil::os {
namespace {

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string utc_stamp(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

/// The length of the valid UTF-8 sequence at the start of `s`, or 0.
std::size_t utf8_length(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  std::size_t len = c < 0x80                 ? 1
                    : c >= 0xC2 && c <= 0xDF ? 2
                    : c >= 0xE0 && c <= 0xEF ? 3
                    : c >= 0xF0 && c <= 0xF4 ? 4
                                             : 0;
  if (len == 0 || len > s.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xC0) != 0x80) {
      return 0;
    }
  }
  // Overlong forms, surrogates and code points past U+10FFFF.
  if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F) || (c == 0xF0 && b(1) < 0x90)
      || (c == 0xF4 && b(1) > 0x8F)) {
    return 0;
  }
  return len;
}

} // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::size_t len = utf8_length(text);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      len = 1;
    } else {
      out.append(text.substr(0, len));
    }
    text.remove_prefix(len);
  }
  return out;
}

std::string file_name_for(std::string_view key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '_' || c == '-' || (c == '.' && !out.empty());
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + ".log";
}

log_store::log_store(log_options options) : options_(std::move(options)) {
  if (!options_.dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    auto dir = open_trusted_dir(options_.dir.string(), ::geteuid());
    if (dir) {
      dir_fd_ = std::move(*dir);
    } else {
      dir_problem_ =
          "not writing worker logs to " + options_.dir.string() + ": " + dir.error().message;
      if (options_.on_error) {
        options_.on_error(dir_problem_);
      }
    }
  }
}

void log_store::report(sink& s, const std::string& message) {
  if (!s.reported && options_.on_error) {
    options_.on_error(message);
  }
  s.reported = true;
}

void log_store::drop(const std::string& key, sink& s, std::string_view unwritten,
                     const std::string& why) {
  std::uint64_t n = 0;
  for (char ch : unwritten) {
    n += ch == '\n' ? 1 : 0;
  }
  s.dropped->fetch_add(n, std::memory_order_relaxed);
  s.episode_dropped += n;
  if (!s.reported) {
    report(s, key + ": " + why + "; dropping its lines until the file can be written ("
                  + std::to_string(s.episode_dropped) + " so far)");
  }
}

log_store::sink& log_store::sink_of(const std::string& key) {
  auto it = sinks_.find(key);
  if (it == sinks_.end()) {
    it = sinks_.emplace(key, sink{}).first;
  }
  return it->second;
}

std::filesystem::path log_store::file(const std::string& key) const {
  return options_.dir.empty() ? std::filesystem::path() : options_.dir / file_name_for(key);
}

void log_store::append(const std::string& key, std::string_view stream,
                       std::span<const std::string_view> lines) {
  if (lines.empty()) {
    return;
  }
  std::int64_t now = wall_ms();
  std::string text;
  if (!options_.dir.empty()) {
    std::string head = utc_stamp(now) + " " + std::string(stream) + " ";
    for (auto line : lines) {
      text.append(head).append(line).push_back('\n');
    }
  }
  std::lock_guard lock(mutex_);
  sink& s = sink_of(key);
  for (auto line : lines) {
    s.ring.push_back(log_entry{now, std::string(stream), valid_utf8(line)});
    s.ring_bytes += s.ring.back().line.size();
    while (s.ring.size() > options_.memory_lines
           || (s.ring_bytes > options_.memory_bytes && s.ring.size() > 1)) {
      s.ring_bytes -= s.ring.front().line.size();
      s.ring.pop_front();
    }
  }
  if (!text.empty()) {
    write_file(key, s, text);
  }
}

std::string log_store::open(const std::string& key, sink& s, int extra_flags) {
  s.opened = true;
  s.bytes = 0;
  if (!dir_fd_) {
    s.fd.reset();
    return dir_problem_;
  }
  // Relative to the checked directory, never through a symlink, never a device or a FIFO.
  std::string name = file_name_for(key);
  s.fd.reset(::openat(dir_fd_.get(), name.c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK
                          | extra_flags,
                      0640));
  if (!s.fd) {
    int e = errno;
    return "unable to open the log " + file(key).string() + ": "
           + std::error_code(e, std::generic_category()).message()
           + (e == ELOOP ? " (a symlink: not followed)" : "");
  }

  struct stat st {};

  if (::fstat(s.fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    s.fd.reset();
    return "not writing the log " + file(key).string() + ": not a regular file";
  }
  s.bytes = static_cast<std::size_t>(st.st_size);
  // A line cut short by an earlier failed write is not continued by the next one.
  s.partial = st.st_size > 0 && s.partial;
  return {};
}

std::string log_store::rotate(const std::string& key, sink& s) {
  s.fd.reset();
  s.partial = false;
  if (!dir_fd_) {
    return open(key, s);
  }
  std::string base = file_name_for(key);
  if (options_.backups == 0) {
    return open(key, s, O_TRUNC);
  }
  int dir = dir_fd_.get();
  (void)::unlinkat(dir, (base + "." + std::to_string(options_.backups)).c_str(), 0);
  for (unsigned k = options_.backups; k > 1; --k) {
    (void)::renameat(dir, (base + "." + std::to_string(k - 1)).c_str(), dir,
                     (base + "." + std::to_string(k)).c_str());
  }
  (void)::renameat(dir, base.c_str(), dir, (base + ".1").c_str());
  return open(key, s);
}

void log_store::write_file(const std::string& key, sink& s, const std::string& lines) {
  std::string problem;
  if (!s.opened) {
    problem = open(key, s);
  }
  if (s.bytes > 0 && s.bytes + lines.size() > options_.max_bytes) {
    problem = rotate(key, s);
  }
  if (!s.fd) {
    s.opened = false; // try to open it again next time
    drop(key, s, lines, problem.empty() ? "no log file " + file(key).string() : problem);
    return;
  }
  // After a write that stopped within a line, the next starts on a line of its own.
  std::string_view text = lines;
  std::string joined;
  if (s.partial) {
    joined = "\n" + lines;
    text = joined;
  }
  std::size_t done = 0;
  int error = 0;
  while (done < text.size()) {
    ssize_t n = ::write(s.fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  s.bytes += done;
  if (done > 0) {
    s.partial = text[done - 1] != '\n';
  }
  if (error != 0) {
    // The lines not written, without the newline put before them.
    std::size_t prefix = text.size() - lines.size();
    std::string_view unwritten(lines);
    unwritten.remove_prefix(done > prefix ? done - prefix : 0);
    drop(key, s, unwritten,
         "log file " + file(key).string() + ": "
             + std::error_code(error, std::generic_category()).message());
    return;
  }
  if (s.reported) {
    if (options_.on_resume) {
      options_.on_resume(
          key + ": log file " + file(key).string() + " is written again; "
          + std::to_string(s.episode_dropped) + " lines were dropped while it could not be ("
          + std::to_string(s.dropped->load(std::memory_order_relaxed)) + " since vigild started)");
    }
    s.reported = false;
    s.episode_dropped = 0;
  }
}

std::vector<log_entry> log_store::recent(const std::string& key, std::size_t n) const {
  std::lock_guard lock(mutex_);
  auto it = sinks_.find(key);
  if (it == sinks_.end()) {
    return {};
  }
  const auto& ring = it->second.ring;
  std::size_t skip = ring.size() > n ? ring.size() - n : 0;
  return {ring.begin() + static_cast<std::ptrdiff_t>(skip), ring.end()};
}

std::uint64_t log_store::lines_dropped(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = sinks_.find(key);
  return it == sinks_.end() ? 0 : it->second.dropped->load(std::memory_order_relaxed);
}

std::shared_ptr<const std::atomic<std::uint64_t>>
log_store::lines_dropped_counter(const std::string& key) {
  std::lock_guard lock(mutex_);
  return sink_of(key).dropped;
}

} // namespace vigil::os
