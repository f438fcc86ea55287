// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/unique_fd.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/// The output of OS children: each worker's stdout and stderr lines go to a rotating log
/// file of its own and to an in-memory ring of its recent lines (what `vigilctl logs`
/// shows). docs/os-workers.md, "Logs".
namespace vigil::os {

/// One line of a worker's output.
struct log_entry {
  std::int64_t ts_ms = 0; ///< wall-clock milliseconds since the epoch
  std::string stream;     ///< "stdout" or "stderr"
  std::string line;       ///< without its newline; valid UTF-8 (bad bytes become U+FFFD)
};

struct log_options {
  /// Where the files go, one `<key>.log` per worker (the key percent-encoded); empty keeps
  /// lines in memory only.
  std::filesystem::path dir;
  /// A file is rotated before it would grow past this: `k.log` becomes `k.log.1`, `.1`
  /// becomes `.2`, and so on, and the oldest beyond `backups` is removed.
  std::size_t max_bytes = 10U << 20;
  unsigned backups = 5;
  /// Recent lines kept in memory per worker.
  std::size_t memory_lines = 1000;
  /// And at most this many bytes of their text (the newest line is always kept): the lines
  /// are the child's, up to 16 KiB each, and vigild's memory is outside the child's cgroup
  /// limits. Without it a child that wrote 1,000 long lines made vigild hold 16 MB for it.
  std::size_t memory_bytes = 1U << 20;
  /// Told why a worker's file cannot be written (the directory is not trusted, the file is a
  /// symlink, a write failed: the disk is full, EIO, a quota), once until it can again: the
  /// message names the worker, the file, the error and the lines dropped so far. Called with
  /// the store's lock held: must not block or call back into the store.
  std::function<void(const std::string& message)> on_error;
  /// Told once when a worker's file is written again after on_error, with the lines that
  /// were dropped meanwhile. Same rules as on_error.
  std::function<void(const std::string& message)> on_resume;
};

/// Per-worker logs. Thread-safe: the OS reactor appends, the daemon reads.
class log_store {
public:
  /// Creates `options.dir` if needed and opens it (O_DIRECTORY | O_NOFOLLOW): it must be owned
  /// by root or this process's uid and writable by no one else, or no file is written there
  /// (on_error says why). Files are opened relative to it with O_NOFOLLOW, so a symlink
  /// planted in the directory redirects nothing: that worker's file stays unwritten.
  explicit log_store(log_options options);

  /// Appends `lines` of `stream` for the worker `key`: one write to its file (each line as
  /// "<UTC time> <stream> <bytes>\n", the bytes as the program wrote them) and each line,
  /// made valid UTF-8, to its memory ring. A failing file write is counted, not retried.
  void append(const std::string& key, std::string_view stream,
              std::span<const std::string_view> lines);

  /// The last `n` lines of `key`, oldest first.
  [[nodiscard]] std::vector<log_entry> recent(const std::string& key, std::size_t n) const;

  /// The file of `key` (it may not exist yet); empty without a directory.
  [[nodiscard]] std::filesystem::path file(const std::string& key) const;

  /// Lines of `key` that went to its memory ring but not to its file (the file could not be
  /// opened or a write failed), since the store began: the count outlives the worker's
  /// restarts, which keep the key.
  [[nodiscard]] std::uint64_t lines_dropped(const std::string& key) const;

  /// The same count, readable without the store's lock for as long as the caller holds it
  /// (a port's info); creates the key's entry if need be.
  [[nodiscard]] std::shared_ptr<const std::atomic<std::uint64_t>>
  lines_dropped_counter(const std::string& key);

  [[nodiscard]] const log_options& options() const noexcept { return options_; }

private:
  struct sink {
    unique_fd fd;
    std::size_t bytes = 0;
    bool opened = false;
    bool reported = false;             ///< on_error was told; cleared by the next successful write
    bool partial = false;              ///< the file ends within a line (a write failed midway)
    std::uint64_t episode_dropped = 0; ///< lines dropped since on_error was told
    std::shared_ptr<std::atomic<std::uint64_t>> dropped =
        std::make_shared<std::atomic<std::uint64_t>>(0);
    std::deque<log_entry> ring;
    std::size_t ring_bytes = 0; ///< the text of the ring's lines
  };

  void write_file(const std::string& key, sink& s, const std::string& lines);
  /// Both return why the file is not open now, empty when it is.
  std::string rotate(const std::string& key, sink& s);
  std::string open(const std::string& key, sink& s, int extra_flags = 0);
  void report(sink& s, const std::string& message);
  void drop(const std::string& key, sink& s, std::string_view unwritten, const std::string& why);
  sink& sink_of(const std::string& key);

  log_options options_;
  unique_fd dir_fd_;
  std::string dir_problem_; ///< why there is no dir_fd_ although options_.dir is set
  mutable std::mutex mutex_;
  std::map<std::string, sink, std::less<>> sinks_;
};

/// `text` with each byte sequence that is not valid UTF-8 replaced by U+FFFD.
[[nodiscard]] std::string valid_utf8(std::string_view text);

/// A file name for `key`: letters, digits, '_', '-' and '.' stay, every other byte becomes
/// %XX, so distinct keys never share a file.
[[nodiscard]] std::string file_name_for(std::string_view key);

} // namespace vigil::os
